import { describe, expect, it } from '@jest/globals';
import { heldTablesBudget, MAX_HELD_TABLES, MIN_HELD_TABLES, openFilesLimit } from '../src/maps/held-tables.js';

const limits = (soft: string, hard: string): string =>
  ['Limit                     Soft Limit           Hard Limit           Units     ', 'Max cpu time              unlimited            unlimited            seconds   ', `Max open files            ${soft.padEnd(21)}${hard.padEnd(21)}files     `, ''].join('\n');

describe('openFilesLimit', () => {
  it('reads the soft limit of /proc/<pid>/limits', () => {
    expect(openFilesLimit(limits('20000', '40000'))).toBe(20000);
    expect(openFilesLimit(limits('unlimited', 'unlimited'))).toBeUndefined();
    expect(openFilesLimit('garbage')).toBeUndefined();
  });
});

describe('heldTablesBudget', () => {
  it('is a quarter of the soft limit, within its bounds', () => {
    expect(heldTablesBudget(limits('20000', '20000'))).toBe(5000);
    expect(heldTablesBudget(limits('1024', '4096'))).toBe(MIN_HELD_TABLES);
    expect(heldTablesBudget(limits('1048576', '1048576'))).toBe(MAX_HELD_TABLES);
    expect(heldTablesBudget(limits('unlimited', 'unlimited'))).toBe(MAX_HELD_TABLES);
    expect(heldTablesBudget('no such line')).toBe(MIN_HELD_TABLES);
  });

  it("reads this process's limits by default", () => {
    const budget = heldTablesBudget();
    expect(budget).toBeGreaterThanOrEqual(MIN_HELD_TABLES);
    expect(budget).toBeLessThanOrEqual(MAX_HELD_TABLES);
  });
});

import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { checkFaultRow, mergeFaultRows, type FaultRow } from '../src/index.js';

const row = (name: string, over: Partial<FaultRow> = {}): FaultRow => ({
  name,
  passed: true,
  recoverySeconds: 1.5,
  lostServices: 0,
  droppedConnections: null,
  operatorSaw: 'an Event',
  ...over,
});

describe('fault matrix rows', () => {
  it('merges by name: a row replaces the one with its name, the others stay; sorted by name', () => {
    const first = mergeFaultRows(undefined, [row('b'), row('a')]);
    const second = mergeFaultRows(JSON.parse(JSON.stringify(first)), [row('b', { passed: false, recoverySeconds: null })]);
    expect(second).toEqual({ bench: 'faults', rows: [row('a'), row('b', { passed: false, recoverySeconds: null })] });
  });

  it('unreadable file content counts as empty; unreadable rows in it are dropped', () => {
    for (const junk of [undefined, null, 'text', 7, [], { rows: 'x' }]) expect(mergeFaultRows(junk, [row('a')]).rows).toEqual([row('a')]);
    expect(mergeFaultRows({ rows: [{ name: 'old' }, row('kept'), null] }, []).rows).toEqual([row('kept')]);
  });

  it('refuses a row it could not show honestly, naming the field', () => {
    expect(() => checkFaultRow(row(''))).toThrow(/name/);
    expect(() => checkFaultRow(row('x', { recoverySeconds: -1 }))).toThrow(/recoverySeconds/);
    expect(() => checkFaultRow(row('x', { recoverySeconds: Number.NaN }))).toThrow(/recoverySeconds/);
    expect(() => checkFaultRow(row('x', { lostServices: 0.5 }))).toThrow(/lostServices/);
    expect(() => checkFaultRow(row('x', { droppedConnections: -2 }))).toThrow(/droppedConnections/);
    expect(() => checkFaultRow(row('x', { operatorSaw: ' ' }))).toThrow(/operatorSaw/);
    expect(() => checkFaultRow({ ...row('x'), passed: 'yes' as unknown as boolean })).toThrow(/passed/);
  });

  it('merging is order-insensitive across writers with distinct names (property)', () => {
    const names = fc.uniqueArray(fc.constantFrom('a', 'b', 'c', 'd', 'e'), { minLength: 1 });
    fc.assert(
      fc.property(names, names, (xs, ys) => {
        const one = mergeFaultRows(mergeFaultRows(undefined, xs.map((n) => row(n))), ys.map((n) => row(n)));
        const two = mergeFaultRows(mergeFaultRows(undefined, ys.map((n) => row(n))), xs.map((n) => row(n)));
        expect(one).toEqual(two);
        expect(one.rows.map((r) => r.name)).toEqual([...new Set([...xs, ...ys])].sort());
      }),
    );
  });
});

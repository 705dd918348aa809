import { describe, expect, it } from '@jest/globals';
import { collectGarbage, limitHeapGrowth } from '../src/heap-tuning.js';

describe('collectGarbage', () => {
  it('collects what nothing references before it returns', async () => {
    // Made in a function: nothing in this one references the object.
    const ref = new WeakRef(makeGarbage());
    // A WeakRef's target lives until the end of the job that made it.
    await new Promise((resolve) => setImmediate(resolve));
    const ms = collectGarbage();
    expect(ref.deref()).toBeUndefined();
    expect(ms).toBeGreaterThanOrEqual(0);
    // Again: the exposed function is kept.
    expect(collectGarbage()).toBeGreaterThanOrEqual(0);
  });

  it('keeps what is referenced', async () => {
    const kept = { payload: 'x' };
    const ref = new WeakRef(kept);
    await new Promise((resolve) => setImmediate(resolve));
    collectGarbage();
    expect(ref.deref()).toBe(kept);
  });
});

describe('limitHeapGrowth', () => {
  it('refuses a negative or fractional percent', () => {
    expect(() => limitHeapGrowth(-1)).toThrow(RangeError);
    expect(() => limitHeapGrowth(2.5)).toThrow(/non-negative integer/);
  });
});

function makeGarbage(): object {
  return { payload: new Array(1000).fill(7) };
}

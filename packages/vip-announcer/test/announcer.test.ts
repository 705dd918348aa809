import { describe, expect, test } from '@jest/globals';
import type { AnnouncementPlan } from '../src/index.js';
import { Announcer, type RenderedState } from '../src/announcer.js';
import type { ApplyResult } from '../src/bird-applier.js';

const EMPTY_PLAN: AnnouncementPlan = { announced: [], withheld: [], problems: [] };

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

function harness(options: { render?: () => RenderedState | undefined; fail?: () => Error | undefined; resyncMs?: number } = {}) {
  let version = 0;
  const applied: string[] = [];
  const verified: boolean[] = [];
  const errors: string[] = [];
  const announcer = new Announcer({
    render: options.render ?? (() => ({ content: `v${version}`, plan: EMPTY_PLAN, problems: [] })),
    renderWithdrawn: () => 'withdrawn',
    apply: async (content, how): Promise<ApplyResult> => {
      verified.push(how.verify);
      const error = options.fail?.();
      if (error) throw error;
      applied.push(content);
      return { changed: true, outcome: 'reconfigured', durationMs: 0 };
    },
    debounceMs: 5,
    backoffMs: { min: 5, max: 20 },
    resyncMs: options.resyncMs ?? 60_000,
    onError: (e) => errors.push(e.message),
  });
  return { announcer, applied, verified, errors, bump: () => ++version };
}

describe('Announcer', () => {
  test('a pass at start; a burst of events merges into one pass with the latest state', async () => {
    const h = harness();
    h.announcer.start();
    await until(() => h.applied.length === 1, 'the first pass');
    expect(h.announcer.ready).toBe(true);
    for (let i = 0; i < 10; i++) {
      h.bump();
      h.announcer.markDirty();
    }
    await until(() => h.applied.includes('v10'), 'the merged pass');
    await h.announcer.stop();
    expect(h.applied).toEqual(['v0', 'v10']);
  });

  test('a failed pass is retried with backoff; lastError and ready say so meanwhile', async () => {
    let failures = 3;
    const h = harness({ fail: () => (failures-- > 0 ? new Error(`BIRD down ${failures}`) : undefined) });
    h.announcer.start();
    await until(() => h.errors.length === 1, 'the first failure');
    expect(h.announcer.ready).toBe(false);
    expect(h.announcer.lastError?.message).toMatch(/BIRD down/);
    await until(() => h.applied.length === 1, 'a pass after the retries');
    await h.announcer.stop();
    expect(h.errors).toEqual(['BIRD down 2', 'BIRD down 1', 'BIRD down 0']);
    expect(h.verified).toEqual([false, true, true, true]);
    expect(h.announcer.ready).toBe(true);
    expect(h.announcer.lastError).toBeUndefined();
  });

  test('the periodic resync asks the applier to verify BIRD even when nothing changed; event passes do not', async () => {
    const h = harness({ resyncMs: 15 });
    h.announcer.start();
    await until(() => h.verified.includes(true), 'a resync pass');
    h.announcer.markDirty();
    await until(() => h.verified.length >= 3, 'an event pass');
    await h.announcer.stop();
    expect(h.verified[0]).toBe(false);
  });

  test('nothing is applied while render cannot decide', async () => {
    let known = false;
    const h = harness({ render: () => (known ? { content: 'known', plan: EMPTY_PLAN, problems: [] } : undefined) });
    h.announcer.start();
    await new Promise((r) => setTimeout(r, 20));
    expect(h.applied).toEqual([]);
    expect(h.announcer.ready).toBe(false);
    known = true;
    h.announcer.markDirty();
    await until(() => h.applied.length === 1, 'a pass once known');
    await h.announcer.stop();
  });

  test('shutdown stops the loop, then applies the withdrawn file, and nothing runs after it', async () => {
    const h = harness();
    h.announcer.start();
    await until(() => h.applied.length === 1, 'the first pass');
    const result = await h.announcer.shutdown();
    expect(result.changed).toBe(true);
    h.announcer.markDirty();
    h.announcer.start();
    await new Promise((r) => setTimeout(r, 20));
    expect(h.applied).toEqual(['v0', 'withdrawn']);
  });
});

/** Timers a controller takes (setTimeout/clearTimeout), driven by a test's clock. */
export interface ManualTimers {
  readonly timers: {
    setTimeout(fn: () => void, ms: number): unknown;
    clearTimeout(handle: unknown): void;
  };
  /** Move the clock forward, firing due timers in order and letting the promises they start settle. */
  advance(ms: number): Promise<void>;
  now(): number;
}

/** A manual clock for controller loop tests: timers fire only when the test advances time. */
export function manualTimers(): ManualTimers {
  let now = 0;
  let seq = 0;
  const pending = new Map<number, { at: number; fn: () => void }>();
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 100; i++) await Promise.resolve();
  };
  return {
    timers: {
      setTimeout: (fn, ms) => (pending.set(++seq, { at: now + ms, fn }), seq),
      clearTimeout: (h) => void pending.delete(h as number),
    },
    async advance(ms) {
      const until = now + ms;
      for (;;) {
        const next = [...pending.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
        if (!next) break;
        pending.delete(next[0]);
        now = next[1].at;
        next[1].fn();
        await settle();
      }
      now = until;
      await settle(); // let a pass in progress finish
    },
    now: () => now,
  };
}

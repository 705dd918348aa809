import type { LoopAttempt } from './resolver-client.js';

/** A backend set and the wall-clock time (ms since the epoch) a test saw it in the maps. */
export type AppliedSet = readonly [time: number, backends: readonly string[]];

/**
 * What a churn loop's attempts must satisfy, given when each backend set was seen applied
 * (ascending by time; the first entry precedes the loop). An attempt may straddle several
 * changes, and a test sees a change only after the kernel has it, so the sets an attempt
 * could have met are those in place from its start to its end plus the one after.
 *
 * - A connect that succeeded reached a backend of one of those sets.
 * - A connect that failed met an empty set, or was closed (ECONNABORTED) by a change in its
 *   window that removed a backend: what the resolver must do to a removed backend's sockets.
 *
 * Returns one line per attempt that broke a rule.
 */
export function churnViolations(timeline: readonly LoopAttempt[], origin: number, applied: readonly AppliedSet[]): string[] {
  if (applied.length === 0) throw new Error('churnViolations: no applied set');
  const lastAtOrBefore = (time: number): number => {
    let i = applied.length - 1;
    while (i > 0 && applied[i]![0] > time) i--;
    return i;
  };
  const violations: string[] = [];
  for (const attempt of timeline) {
    const start = origin + attempt.t;
    const first = lastAtOrBefore(start);
    const last = Math.min(applied.length - 1, lastAtOrBefore(start + attempt.ms) + 1);
    const window = applied.slice(first, last + 1).map(([, set]) => set);
    const named = window.map((set) => `[${set.join(',')}]`).join(' → ');
    if (attempt.ok) {
      if (!window.some((set) => set.includes(attempt.backend))) violations.push(`${attempt.t.toFixed(2)} ms: reached ${attempt.backend}, in none of ${named}`);
      continue;
    }
    if (window.some((set) => set.length === 0)) continue;
    const removed = window.some((set, k) => k > 0 && window[k - 1]!.some((b) => !set.includes(b)));
    if (attempt.error === 'ECONNABORTED' && removed) continue;
    violations.push(`${attempt.t.toFixed(2)} ms: ${attempt.error} while ${named} were live`);
  }
  return violations;
}

// How many new tables one pass of writes may hold before swapping them in (apply-run.ts): each
// waiting table is an open inner-map fd, and every swap call costs an RCU grace period.
import { readFileSync } from 'node:fs';

/** Never fewer (what one step of the agent's pass, ~500 services, needs for a single swap). */
export const MIN_HELD_TABLES = 512;
/** Never more: 10,000 Services are then 1 swap at a time of 4,096 elements (MAX_BATCH_ELEMENTS), 3 calls. */
export const MAX_HELD_TABLES = 16384;

/** The soft "Max open files" of a /proc/<pid>/limits text, or undefined (unlimited or absent). */
export function openFilesLimit(limitsText: string): number | undefined {
  const line = limitsText.split('\n').find((l) => l.startsWith('Max open files'));
  const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
  if (soft === undefined || !/^\d+$/.test(soft)) return undefined;
  return Number(soft);
}

/**
 * A quarter of the open-files limit (Node raises the soft limit to the hard one when it starts;
 * the rest is left to sockets, the BPF objects, whatever else the process opens), within
 * [MIN_HELD_TABLES, MAX_HELD_TABLES]; MIN_HELD_TABLES when the limit cannot be read.
 */
export function heldTablesBudget(limitsText?: string): number {
  let text = limitsText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return MIN_HELD_TABLES;
    }
  }
  const limit = openFilesLimit(text);
  if (limit === undefined) return /Max open files\s+unlimited/.test(text) ? MAX_HELD_TABLES : MIN_HELD_TABLES;
  return Math.min(MAX_HELD_TABLES, Math.max(MIN_HELD_TABLES, Math.floor(limit / 4)));
}

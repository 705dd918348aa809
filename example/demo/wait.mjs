// Polling for the demo: testkit's eventually with a longer default wait (the lab VM is slow),
// and settle, which returns the last value instead of throwing (for a check to judge).
import { setTimeout as sleep } from 'node:timers/promises';
import { eventually as poll } from '@balanced/testkit';

/**
 * How long a helper process (client, identity servers) may take to print its first line: node
 * starting under TCG on a busy host takes seconds, not the milliseconds it takes on the host.
 */
export const CHILD_READY_MS = 120_000;

/** Polls `probe` until `ok(value)`; throws with the last value after `timeoutMs`. */
export function eventually(what, probe, ok, timeoutMs = 180_000) {
  return poll(what, probe, ok, timeoutMs);
}

/** Polls `probe` until `ok(value)` or `timeoutMs`; returns the last value either way (for a check to judge). */
export async function settle(probe, ok, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  let last = await probe();
  while (!ok(last) && Date.now() <= deadline) {
    await sleep(250);
    last = await probe();
  }
  return last;
}

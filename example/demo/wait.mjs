// Polling for the demo: testkit's eventually with a longer default wait (the lab VM is slow),
// and settle, which returns the last value instead of throwing (for a check to judge).
import { setTimeout as sleep } from 'node:timers/promises';
import { eventually as poll } from '@balanced/testkit';

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

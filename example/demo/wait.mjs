import { setTimeout as sleep } from 'node:timers/promises';

/** Polls `probe` until `ok(value)`; throws with the last value after `timeoutMs`. */
export async function eventually(what, probe, ok, timeoutMs = 180_000) {
  const deadline = Date.now() + timeoutMs;
  let last = await probe();
  while (!ok(last)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
    await sleep(250);
    last = await probe();
  }
  return last;
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

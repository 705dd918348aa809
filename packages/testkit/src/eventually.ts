import { setTimeout as sleep } from 'node:timers/promises';

/** Polls `probe` every `intervalMs` until `ok(value)`; throws naming `what` and the last value after `timeoutMs`. */
export async function eventually<T>(what: string, probe: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 120_000, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await probe();
  while (!ok(last)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
    await sleep(intervalMs);
    last = await probe();
  }
  return last;
}

// The demo polls with testkit's eventually, with a longer default wait (the lab VM is slow).
import { eventually as poll } from '@balanced/testkit';

/** Polls `probe` until `ok(value)`; throws with the last value after `timeoutMs`. */
export function eventually(what, probe, ok, timeoutMs = 180_000) {
  return poll(what, probe, ok, timeoutMs);
}

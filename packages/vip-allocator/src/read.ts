// Defensive readers: objects from a cache, a watch or a test may be anything, and the pure
// code must never throw on them. The basic ones are @balanced/k8s's; two more here.
import { asRecord } from '@balanced/k8s';

export { asArray, asRecord, asString, prop } from '@balanced/k8s';

/** A string map (labels, annotations); non-string values are dropped. */
export function asStringMap(value: unknown): Readonly<Record<string, string>> {
  const out: Record<string, string> = {};
  const r = asRecord(value);
  if (r === undefined) return out;
  for (const key of Object.keys(r)) {
    const v = r[key];
    if (typeof v === 'string') out[key] = v;
  }
  return out;
}

/** Milliseconds since the epoch of a Date or an RFC 3339 string; undefined when neither. */
export function asTime(value: unknown): number | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.getTime();
  if (typeof value !== 'string') return undefined;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : t;
}

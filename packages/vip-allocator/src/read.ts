// Defensive readers: objects from a cache, a watch or a test may be anything, and the pure
// code must never throw on them. (@balanced/k8s has the same helpers but does not export them.)

export type Rec = Readonly<Record<string, unknown>>;

export function asRecord(value: unknown): Rec | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Rec) : undefined;
}

/** An own property only: `__proto__`, `constructor`, … read as absent. */
export function prop(value: unknown, key: string): unknown {
  const r = asRecord(value);
  if (r === undefined || !Object.prototype.hasOwnProperty.call(r, key)) return undefined;
  return r[key];
}

export function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function asArray(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

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

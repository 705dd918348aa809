// Defensive readers for Kubernetes objects. The typed models (V1Service, …) describe what a
// well-formed object looks like; what arrives from a cache, a test or a misbehaving API
// server may be anything. The pure builders read every field through these helpers so that
// no input can make them throw.

export type Rec = Readonly<Record<string, unknown>>;

export function asRecord(value: unknown): Rec | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Rec) : undefined;
}

/** An own property only: `__proto__`, `constructor`, … on a plain object read as absent. */
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

export function asBoolean(value: unknown): boolean | undefined {
  return typeof value === 'boolean' ? value : undefined;
}

/** A port number 1..65535, or undefined. */
export function asPort(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65535 ? value : undefined;
}

/** A JSON-ish rendering for messages; never throws (cycles, BigInt, …). */
export function show(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    const text = JSON.stringify(value);
    return text === undefined ? String(value) : text;
  } catch {
    return Object.prototype.toString.call(value);
  }
}

export interface ObjectRef {
  readonly namespace: string;
  readonly name: string;
  readonly uid?: string;
}

/** namespace/name/uid of any object; missing parts read as ''. */
export function objectRef(object: unknown): ObjectRef {
  const metadata = prop(object, 'metadata');
  const namespace = asString(prop(metadata, 'namespace')) ?? '';
  const name = asString(prop(metadata, 'name')) ?? '';
  const uid = asString(prop(metadata, 'uid'));
  return uid === undefined || uid === '' ? { namespace, name } : { namespace, name, uid };
}

/**
 * "<namespace>/<name>", as a flat string. A template literal would build a cons string that
 * keeps both parts and, once hashed as a Map key, a flat copy as well; a director keeps one
 * of these per endpoint (pod references), so the difference is megabytes.
 */
export function namespacedKey(namespace: string, name: string): string {
  return [namespace, name].join('/');
}

export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

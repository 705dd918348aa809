// Identity of a Kubernetes object for keys, conflicts and refusals, read defensively.
import { asString, prop } from '@balanced/k8s';

export interface ObjectIdentity {
  readonly namespace: string;
  readonly name: string;
  /** creationTimestamp in ms; +Infinity when absent or unreadable (such an object is the youngest). */
  readonly created: number;
}

/** namespace, name ('' when missing) and creation time of any object. */
export function objectIdentity(object: unknown): ObjectIdentity {
  const metadata = prop(object, 'metadata');
  return {
    namespace: asString(prop(metadata, 'namespace')) ?? '',
    name: asString(prop(metadata, 'name')) ?? '',
    created: timestamp(prop(metadata, 'creationTimestamp')),
  };
}

function timestamp(value: unknown): number {
  const ms = value instanceof Date ? value.getTime() : typeof value === 'string' ? Date.parse(value) : Number.NaN;
  return Number.isFinite(ms) ? ms : Number.POSITIVE_INFINITY;
}

/** Older first (creationTimestamp), then namespace/name: who keeps a contested frontend. */
export function compareAge(a: ObjectIdentity, b: ObjectIdentity): number {
  if (a.created !== b.created) return a.created < b.created ? -1 : 1;
  return compareText(a.namespace, b.namespace) || compareText(a.name, b.name);
}

/** Code-unit order (locale-independent, so every node sorts alike). */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * A text of any value that does not depend on key order (objects' keys sorted), for the last
 * tie-break between two objects a malformed cache holds under one name: what policies read of
 * the one kept must not depend on which came first.
 */
export function canonicalText(value: unknown, depth = 0): string {
  if (depth > 32) return '…';
  if (Array.isArray(value)) return `[${value.map((v) => canonicalText(v, depth + 1)).join(',')}]`;
  if (value instanceof Date) return `date:${value.getTime()}`;
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    return `{${Object.keys(record)
      .sort(compareText)
      .map((k) => `${JSON.stringify(k)}:${canonicalText(record[k], depth + 1)}`)
      .join(',')}}`;
  }
  return typeof value === 'string' ? JSON.stringify(value) : `${typeof value}:${String(value)}`;
}

// Projections: copy only the fields a reader needs out of an API object. An informer cache
// holds every object of its kinds for the life of the process; a director reads a dozen fields
// of a Service or an EndpointSlice, and the rest (labels, status conditions, other
// controllers' annotations, kubectl's last-applied-configuration, which repeats the whole
// object) is memory spent for nothing. client-go's informers have SetTransform for this.
//
// A projection never changes what the defensive readers (read.ts) see for the fields it keeps:
// a kept field keeps its value, malformed or not, and `undefined` properties are dropped
// (prop() reads them as absent either way).
import { compactValue } from './compact.js';
import { asRecord } from './read.js';

/**
 * What to keep: `true` keeps a value whole (compacted: see compactValue); an object keeps those own properties of a record
 * (each by its own shape); `[shape]` keeps an array's elements by that shape; a function
 * decides itself. A value that is not what its shape expects (a string where a record was
 * expected, …) is kept whole: the readers refuse it the same way either way.
 */
export type Shape = true | readonly [Shape] | { readonly [key: string]: Shape } | ((value: unknown) => unknown);

export function project(value: unknown, shape: Shape): unknown {
  if (shape === true) return compactValue(value);
  if (typeof shape === 'function') return shape(value);
  if (Array.isArray(shape)) {
    const inner = (shape as readonly [Shape])[0];
    return Array.isArray(value) ? value.map((v: unknown) => project(v, inner)) : value;
  }
  const record = asRecord(value);
  if (record === undefined || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  const fields = shape as { readonly [key: string]: Shape };
  // In the object's own key order, so that a message quoting a kept part reads the same.
  for (const key of Object.keys(record)) {
    if (!Object.prototype.hasOwnProperty.call(fields, key)) continue;
    const v = record[key];
    if (v === undefined) continue;
    out[key] = project(v, fields[key] as Shape);
  }
  return out;
}

/** Keeps only the entries whose key starts with one of the prefixes (annotations, labels). */
export function keysStartingWith(...prefixes: readonly string[]): (value: unknown) => unknown {
  return (value) => {
    const record = asRecord(value);
    if (record === undefined) return value;
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(record)) {
      if (!prefixes.some((p) => key.startsWith(p))) continue;
      // An own property even for "__proto__" (assigning it would set the prototype).
      if (key === '__proto__') Object.defineProperty(out, key, { value: record[key], enumerable: true, writable: true, configurable: true });
      else out[key] = record[key];
    }
    return out;
  };
}

// Projections: copy only the fields a reader needs out of an API object. An informer cache
// holds every object of its kinds for the life of the process; a director reads a dozen fields
// of a Service or an EndpointSlice, and the rest (labels, status conditions, other
// controllers' annotations, kubectl's last-applied-configuration, which repeats the whole
// object) is memory spent for nothing. client-go's informers have SetTransform for this.
//
// A projection never changes what the defensive readers (read.ts) see for the fields it keeps:
// a kept field keeps its value, malformed or not, and `undefined` properties are dropped
// (prop() reads them as absent either way).
//
// Copy on write: a plain record or array whose every part the shape keeps as it is comes back
// itself, not a copy (an EndpointSlice's `addresses`, a Service's `ports`). The objects a cache
// projects are parsed JSON (list-request.ts, watch events) that nothing else holds, so sharing
// their parts costs nothing, and a first list of 100,000 endpoints allocates that much less.
import { compactValue, isPlainRecord, putOwn } from './compact.js';
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
    return Array.isArray(value) ? projectArray(value, inner) : value;
  }
  const record = asRecord(value);
  if (record === undefined || Array.isArray(value)) return value;
  return projectRecord(record, shape as { readonly [key: string]: Shape });
}

function projectArray(value: readonly unknown[], inner: Shape): unknown[] {
  let out: unknown[] | undefined;
  for (let i = 0; i < value.length; i++) {
    const v = value[i];
    const p = project(v, inner);
    if (out === undefined && p !== v) out = value.slice(); // exactly sized, unlike push()
    if (out !== undefined) out[i] = p;
  }
  return out ?? (value as unknown[]);
}

function projectRecord(record: Record<string, unknown>, fields: { readonly [key: string]: Shape }): Record<string, unknown> {
  // A class instance (a typed model) always becomes a plain record.
  let out: Record<string, unknown> | undefined = isPlainRecord(record) ? undefined : {};
  /** Own keys seen while `out` is still undefined (each kept as it is). */
  let same = 0;
  // In the object's own key order, so that a message quoting a kept part reads the same.
  for (const key in record) {
    if (!Object.prototype.hasOwnProperty.call(record, key)) continue;
    const v = record[key];
    const kept = v !== undefined && Object.prototype.hasOwnProperty.call(fields, key);
    const p = kept ? project(v, fields[key] as Shape) : undefined;
    if (out === undefined) {
      if (kept && p === v) {
        same++;
        continue;
      }
      out = copyFirst(record, same);
    }
    if (kept) putOwn(out, key, p);
  }
  return out ?? record;
}

/** A plain record with the first `count` own properties of `record` (all kept as they are). */
function copyFirst(record: Record<string, unknown>, count: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (count === 0) return out;
  let n = 0;
  for (const key in record) {
    if (!Object.prototype.hasOwnProperty.call(record, key)) continue;
    putOwn(out, key, record[key]);
    if (++n === count) break;
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
      putOwn(out, key, record[key]);
    }
    return out;
  };
}

// Informer caches hold every object of a kind for the life of the process. The typed models
// client-node builds from a list declare every field, so an EndpointSlice endpoint carries a
// dozen `undefined` properties, and API servers add metadata.managedFields (often the largest
// part of an object), which no controller here reads. Compacting objects as they enter the
// cache keeps only what is there: same JSON, a fraction of the memory.
//
// Copy on write: a plain record or array with nothing to drop comes back itself (the parsed
// JSON a cache is fed has none, and nothing else holds it); a typed model's instances, and
// anything holding an `undefined` property, come back as plain copies.

/** A copy without `undefined` properties and without metadata.managedFields (Dates kept). */
export function compactObject<T>(value: T): T {
  return compact(value, true) as T;
}

/**
 * Any value without `undefined` properties (no metadata special case). Arrays that are copied
 * come out exactly sized (an array a typed model grew by push() keeps spare capacity: a
 * one-address list costs ~150 bytes that way); parsed JSON's arrays are exactly sized already.
 */
export function compactValue(value: unknown): unknown {
  return compact(value, false);
}

function compact(value: unknown, top: boolean): unknown {
  if (value === null || typeof value !== 'object' || value instanceof Date) return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      const c = compact(v, false);
      if (out === undefined && c !== v) out = value.slice();
      if (out !== undefined) out[i] = c;
    }
    return out ?? value;
  }
  const record = value as Record<string, unknown>;
  let out: Record<string, unknown> | undefined = isPlainRecord(record) ? undefined : {};
  let same = 0;
  for (const key in record) {
    if (!Object.prototype.hasOwnProperty.call(record, key)) continue;
    const v = record[key];
    let c: unknown;
    if (v === undefined) c = undefined;
    else if (top && key === 'metadata' && v !== null && typeof v === 'object' && !Array.isArray(v) && Object.prototype.hasOwnProperty.call(v, 'managedFields')) {
      const { managedFields: _dropped, ...rest } = v as Record<string, unknown>;
      c = compact(rest, false);
    } else c = compact(v, false);
    if (out === undefined) {
      if (v !== undefined && c === v) {
        same++;
        continue;
      }
      out = {};
      let n = 0;
      for (const k in record) {
        if (n === same) break;
        if (!Object.prototype.hasOwnProperty.call(record, k)) continue;
        putOwn(out, k, record[k]);
        n++;
      }
    }
    if (c !== undefined) putOwn(out, key, c);
  }
  return out ?? record;
}

/** A record whose prototype is Object.prototype or null (parsed JSON, object literals). */
export function isPlainRecord(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** An own property, even for "__proto__" (a JSON key like any other; assigning it would set the prototype). */
export function putOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

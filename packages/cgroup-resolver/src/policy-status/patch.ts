// Whether a stored status already says what we want, and the JSON merge patch that makes it
// so. Pure.
//
// A merge patch replaces arrays whole (conditions, nodes) but merges objects key by key, so a
// top-level status field we no longer write (nodes, once the agent stops computing it, or a
// field someone else put there) is removed with an explicit null; otherwise the stored status
// would never equal the desired one and every pass would write again.

import { isDeepStrictEqual } from 'node:util';

import { asRecord } from '@balanced/k8s';

import type { PolicyStatus } from './types.js';

/** The stored status is exactly the desired one (key order aside). */
export function statusUpToDate(current: unknown, desired: PolicyStatus): boolean {
  return isDeepStrictEqual(current, plain(desired));
}

/** The `status` of a merge patch that turns `current` into `desired`. */
export function statusPatch(current: unknown, desired: PolicyStatus): Record<string, unknown> {
  // fromEntries defines own properties: a stored "__proto__" key is nulled like any other.
  return Object.fromEntries([...Object.keys(asRecord(current) ?? {}).map((key) => [key, null] as const), ...Object.entries(plain(desired))]);
}

/** The desired status as JSON reads it back (plain objects and arrays). */
function plain(status: PolicyStatus): Record<string, unknown> {
  return JSON.parse(JSON.stringify(status)) as Record<string, unknown>;
}

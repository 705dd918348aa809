// metadata as the policies read it: from a cache (typed models: creationTimestamp a Date) or
// from JSON (a string); anything else reads as absent.

import { asString, prop } from '@balanced/k8s';

import type { PolicyMeta } from './types.js';

export function createdAtOf(value: unknown): number | undefined {
  const ms = value instanceof Date ? value.getTime() : typeof value === 'string' ? Date.parse(value) : Number.NaN;
  return Number.isFinite(ms) ? ms : undefined;
}

export function readMeta(object: unknown): PolicyMeta {
  const metadata = prop(object, 'metadata');
  const uid = asString(prop(metadata, 'uid'));
  const generation = prop(metadata, 'generation');
  const resourceVersion = asString(prop(metadata, 'resourceVersion'));
  const createdAt = createdAtOf(prop(metadata, 'creationTimestamp'));
  return {
    name: asString(prop(metadata, 'name')) ?? '',
    ...(uid !== undefined && uid !== '' ? { uid } : {}),
    ...(typeof generation === 'number' && Number.isInteger(generation) ? { generation } : {}),
    ...(resourceVersion !== undefined ? { resourceVersion } : {}),
    ...(createdAt !== undefined ? { createdAt } : {}),
  };
}

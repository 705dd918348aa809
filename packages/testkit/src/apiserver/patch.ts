// Patch documents the API server accepts.
//   merge-patch (RFC 7386); strategic-merge-patch is treated as a merge patch, so lists are
//   replaced rather than merged by key; json-patch (RFC 6902: add, remove, replace, move,
//   copy, test).

import { badRequest, ApiError } from './status.js';
import { isRecord } from './types.js';

export const MERGE_PATCH = 'application/merge-patch+json';
export const STRATEGIC_MERGE_PATCH = 'application/strategic-merge-patch+json';
export const JSON_PATCH = 'application/json-patch+json';
export const APPLY_PATCH = 'application/apply-patch+yaml';

/** RFC 7386: null deletes, objects merge recursively, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isRecord(patch)) {
    return structuredClone(patch);
  }
  const result: Record<string, unknown> = isRecord(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      delete result[key];
    } else {
      result[key] = mergePatch(result[key], value);
    }
  }
  return result;
}

export interface JsonPatchOp {
  op: string;
  path: string;
  value?: unknown;
  from?: string;
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) {
    throw badRequest(`json patch: invalid path "${pointer}"`);
  }
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function patchFailed(message: string): ApiError {
  return new ApiError(422, 'Invalid', `the server rejected our request due to an error in our request: ${message}`);
}

type Container = Record<string, unknown> | unknown[];

/** The parent container of a pointer and the last token. */
function locate(doc: unknown, pointer: string): { parent: Container; key: string } {
  const tokens = parsePointer(pointer);
  const key = tokens.pop();
  if (key === undefined) {
    throw patchFailed(`json patch: cannot operate on the whole document`);
  }
  let cur: unknown = doc;
  for (const token of tokens) {
    if (Array.isArray(cur)) {
      cur = cur[Number(token)];
    } else if (isRecord(cur)) {
      cur = cur[token];
    } else {
      cur = undefined;
    }
    if (cur === undefined) {
      throw patchFailed(`json patch: path "${pointer}" does not exist`);
    }
  }
  if (!Array.isArray(cur) && !isRecord(cur)) {
    throw patchFailed(`json patch: path "${pointer}" does not exist`);
  }
  return { parent: cur, key };
}

function arrayIndex(arr: unknown[], key: string, forInsert: boolean, pointer: string): number {
  if (forInsert && key === '-') return arr.length;
  const i = Number(key);
  const max = forInsert ? arr.length : arr.length - 1;
  if (!/^(0|[1-9]\d*)$/.test(key) || i > max) {
    throw patchFailed(`json patch: index out of range in "${pointer}"`);
  }
  return i;
}

function getAt(doc: unknown, pointer: string): unknown {
  const { parent, key } = locate(doc, pointer);
  const value = Array.isArray(parent) ? parent[arrayIndex(parent, key, false, pointer)] : parent[key];
  if (value === undefined) {
    throw patchFailed(`json patch: path "${pointer}" does not exist`);
  }
  return value;
}

function removeAt(doc: unknown, pointer: string): void {
  const { parent, key } = locate(doc, pointer);
  if (Array.isArray(parent)) {
    parent.splice(arrayIndex(parent, key, false, pointer), 1);
  } else {
    if (!(key in parent)) {
      throw patchFailed(`json patch: unable to remove nonexistent key "${key}" at "${pointer}"`);
    }
    delete parent[key];
  }
}

function addAt(doc: unknown, pointer: string, value: unknown): void {
  const { parent, key } = locate(doc, pointer);
  if (Array.isArray(parent)) {
    parent.splice(arrayIndex(parent, key, true, pointer), 0, structuredClone(value));
  } else {
    parent[key] = structuredClone(value);
  }
}

function replaceAt(doc: unknown, pointer: string, value: unknown): void {
  const { parent, key } = locate(doc, pointer);
  if (Array.isArray(parent)) {
    parent[arrayIndex(parent, key, false, pointer)] = structuredClone(value);
  } else {
    if (!(key in parent)) {
      throw patchFailed(`json patch: unable to replace nonexistent key "${key}" at "${pointer}"`);
    }
    parent[key] = structuredClone(value);
  }
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (isRecord(v)) {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, canonical(v[k])]),
    );
  }
  return v;
}

export function jsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) {
    throw badRequest('json patch: the patch must be a JSON array of operations');
  }
  const doc = structuredClone(target);
  for (const raw of ops) {
    if (!isRecord(raw) || typeof raw['op'] !== 'string' || typeof raw['path'] !== 'string') {
      throw badRequest('json patch: every operation needs "op" and "path"');
    }
    const op = raw as unknown as JsonPatchOp;
    switch (op.op) {
      case 'add':
        addAt(doc, op.path, op.value);
        break;
      case 'remove':
        removeAt(doc, op.path);
        break;
      case 'replace':
        replaceAt(doc, op.path, op.value);
        break;
      case 'move': {
        const value = getAt(doc, op.from ?? '');
        removeAt(doc, op.from ?? '');
        addAt(doc, op.path, value);
        break;
      }
      case 'copy':
        addAt(doc, op.path, getAt(doc, op.from ?? ''));
        break;
      case 'test':
        if (!deepEqual(getAt(doc, op.path), op.value)) {
          throw patchFailed(`json patch: test operation failed at "${op.path}"`);
        }
        break;
      default:
        throw badRequest(`json patch: unknown operation "${op.op}"`);
    }
  }
  return doc;
}

export { deepEqual };

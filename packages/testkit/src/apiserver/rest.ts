// The API server's verbs on top of the store, with the rules client code relies on:
// create (409 AlreadyExists, generateName, server-set metadata), update (409 Conflict on a
// stale resourceVersion), patch, delete (finalizers, preconditions), list (selectors,
// limit/continue), and the /status subresource split.

import { randomUUID } from 'node:crypto';

import { deepEqual, jsonPatch, mergePatch, APPLY_PATCH, JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH } from './patch.js';
import type { ResourceType } from './resources.js';
import { apiVersionOf } from './resources.js';
import { matchesFilter, parseFilter } from './selectors.js';
import {
  ApiError,
  STALE_OBJECT,
  alreadyExists,
  badRequest,
  conflict,
  expired,
  invalid,
  notFound,
  unsupportedMediaType,
} from './status.js';
import type { ObjectStore } from './store.js';
import { compareObjectKeys, kubeTimestamp, listKey } from './store.js';
import type { KubeObject, ObjectMeta, StoredObject } from './types.js';
import { isRecord } from './types.js';

export type Query = Readonly<Record<string, string>>;

export interface ListBody {
  kind: string;
  apiVersion: string;
  metadata: { resourceVersion: string; continue?: string; remainingItemCount?: number };
  items: KubeObject[];
}

/** Which part of an object a write targets. */
export type Subresource = 'main' | 'status';

const NAME_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

function randomSuffix(): string {
  let s = '';
  for (let i = 0; i < 5; i++) {
    s += NAME_CHARS[Math.floor(Math.random() * NAME_CHARS.length)];
  }
  return s;
}

/** A list item as the real server sends it: built-in kinds omit kind and apiVersion. */
function listItem(type: ResourceType, obj: StoredObject): KubeObject {
  if (!type.builtin) return obj;
  const { kind: _kind, apiVersion: _apiVersion, ...rest } = obj;
  return rest;
}

/** Everything but metadata and status: a change here bumps metadata.generation. */
function specOf(obj: KubeObject): unknown {
  const { metadata: _m, status: _s, kind: _k, apiVersion: _a, ...rest } = obj;
  return rest;
}

function withoutVersion(obj: KubeObject): unknown {
  return { ...obj, metadata: { ...obj.metadata, resourceVersion: undefined } };
}

interface ContinueToken {
  rv: number;
  after: string;
}

/** Index of the first item (in key order) whose key is after `after`. */
function firstAfter(items: readonly StoredObject[], after: string): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareObjectKeys(listKey(items[mid] as StoredObject), after) > 0) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export class RestApi {
  constructor(private readonly store: ObjectStore) {}

  get(type: ResourceType, namespace: string | undefined, name: string): StoredObject {
    const found = this.store.read(type, namespace, name);
    if (found === undefined) {
      throw notFound(type, name);
    }
    return found;
  }

  list(type: ResourceType, namespace: string | undefined, query: Query): ListBody {
    const filter = parseFilter(query['labelSelector'], query['fieldSelector'], type.fieldLabels);
    const rv = query['resourceVersion'];
    if (query['resourceVersionMatch'] === 'Exact' && rv !== undefined && Number(rv) < this.store.compactedRevision) {
      throw expired(`too old resource version: ${rv} (${this.store.compactedRevision})`);
    }
    let items = this.store.items(type, namespace).filter((o) => matchesFilter(filter, o));
    const token = query['continue'];
    if (token !== undefined && token !== '') {
      const parsed = this.parseContinue(token);
      items = items.slice(firstAfter(items, parsed.after));
    }
    const limit = query['limit'] === undefined ? 0 : Number(query['limit']);
    const metadata: ListBody['metadata'] = { resourceVersion: this.store.resourceVersion };
    if (limit > 0 && items.length > limit) {
      const last = items[limit - 1];
      const after = `${last?.metadata.namespace ?? ''}/${last?.metadata.name ?? ''}`;
      metadata.continue = Buffer.from(JSON.stringify({ rv: Number(this.store.resourceVersion), after })).toString('base64url');
      metadata.remainingItemCount = items.length - limit;
      items = items.slice(0, limit);
    }
    return {
      kind: `${type.kind}List`,
      apiVersion: apiVersionOf(type),
      metadata,
      items: items.map((o) => listItem(type, o)),
    };
  }

  create(type: ResourceType, namespace: string | undefined, body: unknown): StoredObject {
    const obj = this.checkBody(type, namespace, body);
    const meta = obj.metadata;
    if (meta.resourceVersion !== undefined && meta.resourceVersion !== '') {
      throw badRequest('resourceVersion should not be set on objects to be created');
    }
    if (meta.name === undefined || meta.name === '') {
      if (meta.generateName === undefined || meta.generateName === '') {
        throw invalid(type, '', 'metadata.name: Required value: name or generateName is required');
      }
      let name = meta.generateName + randomSuffix();
      while (this.store.read(type, namespace, name) !== undefined) {
        name = meta.generateName + randomSuffix();
      }
      meta.name = name;
    }
    if (this.store.read(type, namespace, meta.name) !== undefined) {
      throw alreadyExists(type, meta.name);
    }
    const { deletionTimestamp: _d, selfLink: _s, ...rest } = meta;
    obj.metadata = { ...rest, uid: randomUUID(), creationTimestamp: kubeTimestamp(), generation: 1 };
    if (type.statusSubresource) {
      if (type.initialStatus === undefined) delete obj['status'];
      else obj['status'] = structuredClone(type.initialStatus);
    }
    return this.store.write(type, obj);
  }

  update(type: ResourceType, namespace: string | undefined, name: string, body: unknown, sub: Subresource): StoredObject {
    const current = this.get(type, namespace, name);
    const obj = this.checkBody(type, namespace, body);
    if (obj.metadata.name !== name) {
      throw badRequest(`the name of the object (${obj.metadata.name ?? ''}) does not match the name on the URL (${name})`);
    }
    this.checkVersion(type, current, obj.metadata.resourceVersion);
    return this.replace(type, current, obj, sub);
  }

  patch(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    contentType: string,
    body: unknown,
    sub: Subresource,
  ): StoredObject {
    const current = this.get(type, namespace, name);
    let patched: unknown;
    switch (contentType) {
      case MERGE_PATCH:
      case STRATEGIC_MERGE_PATCH:
        patched = mergePatch(current, body);
        break;
      case JSON_PATCH:
        patched = jsonPatch(current, body);
        break;
      case APPLY_PATCH:
      default:
        throw unsupportedMediaType(contentType);
    }
    if (!isRecord(patched)) {
      throw badRequest('the patch did not produce an object');
    }
    const obj = patched as KubeObject;
    const meta: ObjectMeta = isRecord(obj.metadata) ? obj.metadata : {};
    this.checkVersion(type, current, meta.resourceVersion);
    obj.metadata = { ...meta, name, ...(namespace === undefined ? {} : { namespace }) };
    return this.replace(type, current, obj, sub);
  }

  delete(type: ResourceType, namespace: string | undefined, name: string, options: unknown): StoredObject {
    const current = this.get(type, namespace, name);
    const preconditions = isRecord(options) && isRecord(options['preconditions']) ? options['preconditions'] : {};
    const uid = preconditions['uid'];
    if (typeof uid === 'string' && uid !== current.metadata.uid) {
      throw conflict(type, name, `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${current.metadata.uid}`);
    }
    const rv = preconditions['resourceVersion'];
    if (typeof rv === 'string' && rv !== current.metadata.resourceVersion) {
      throw conflict(
        type,
        name,
        `Precondition failed: ResourceVersion in precondition: ${rv}, ResourceVersion in object meta: ${current.metadata.resourceVersion}`,
      );
    }
    return this.deleteObject(type, current);
  }

  deleteCollection(type: ResourceType, namespace: string | undefined, query: Query): ListBody {
    const filter = parseFilter(query['labelSelector'], query['fieldSelector'], type.fieldLabels);
    const deleted = this.store
      .items(type, namespace)
      .filter((o) => matchesFilter(filter, o))
      .map((o) => this.deleteObject(type, o));
    return {
      kind: `${type.kind}List`,
      apiVersion: apiVersionOf(type),
      metadata: { resourceVersion: this.store.resourceVersion },
      items: deleted.map((o) => listItem(type, o)),
    };
  }

  /** Delete now, or, with finalizers, mark terminating and wait for them to be removed. */
  private deleteObject(type: ResourceType, current: StoredObject): StoredObject {
    const ns = current.metadata.namespace;
    if ((current.metadata.finalizers?.length ?? 0) === 0) {
      return this.store.remove(type, ns, current.metadata.name) ?? current;
    }
    if (current.metadata.deletionTimestamp !== undefined) {
      return current;
    }
    return this.store.write(type, {
      ...structuredClone(current),
      metadata: { ...structuredClone(current.metadata), deletionTimestamp: kubeTimestamp(), deletionGracePeriodSeconds: 0 },
    });
  }

  /** The write shared by PUT and PATCH: system metadata kept, status split by subresource. */
  private replace(type: ResourceType, current: StoredObject, obj: KubeObject, sub: Subresource): StoredObject {
    let next: KubeObject;
    if (sub === 'status') {
      next = structuredClone(current);
      if (obj['status'] === undefined) delete next['status'];
      else next['status'] = obj['status'];
    } else {
      const cur = current.metadata;
      next = {
        ...obj,
        metadata: {
          ...obj.metadata,
          name: cur.name,
          uid: cur.uid,
          ...(cur.namespace === undefined ? {} : { namespace: cur.namespace }),
          ...(cur.creationTimestamp === undefined ? {} : { creationTimestamp: cur.creationTimestamp }),
          ...(cur.deletionTimestamp === undefined ? {} : { deletionTimestamp: cur.deletionTimestamp }),
          generation: cur.generation ?? 1,
        },
      };
      if (next.metadata !== undefined && cur.deletionTimestamp === undefined) {
        delete next.metadata.deletionTimestamp;
      }
      if (type.statusSubresource) {
        if (current['status'] === undefined) delete next['status'];
        else next['status'] = structuredClone(current['status']);
      }
      if (!deepEqual(specOf(next), specOf(current)) && next.metadata !== undefined) {
        next.metadata.generation = (cur.generation ?? 1) + 1;
      }
    }
    if (deepEqual(withoutVersion(next), withoutVersion(current))) {
      return current; // a no-op write is not stored and produces no watch event
    }
    if (next.metadata?.deletionTimestamp !== undefined && (next.metadata.finalizers?.length ?? 0) === 0) {
      return this.store.remove(type, current.metadata.namespace, current.metadata.name) ?? current;
    }
    return this.store.write(type, next);
  }

  private checkVersion(type: ResourceType, current: StoredObject, rv: string | undefined): void {
    if (rv !== undefined && rv !== '' && rv !== current.metadata.resourceVersion) {
      throw conflict(type, current.metadata.name, STALE_OBJECT);
    }
  }

  /** A request body as an object of this type, with namespace matching the URL. */
  private checkBody(
    type: ResourceType,
    namespace: string | undefined,
    body: unknown,
  ): KubeObject & { metadata: ObjectMeta } {
    if (!isRecord(body)) {
      throw badRequest('the request body must be a JSON object');
    }
    const obj = structuredClone(body) as KubeObject;
    if (obj.kind !== undefined && obj.kind !== type.kind) {
      throw badRequest(`${obj.kind} in version "${type.version}" cannot be handled as a ${type.kind}`);
    }
    if (obj.apiVersion !== undefined && obj.apiVersion !== apiVersionOf(type)) {
      throw badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${apiVersionOf(type)})`);
    }
    const meta: ObjectMeta = isRecord(obj.metadata) ? obj.metadata : {};
    if (type.namespaced) {
      if (meta.namespace !== undefined && meta.namespace !== '' && meta.namespace !== namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      if (namespace !== undefined) meta.namespace = namespace;
    } else {
      delete meta.namespace;
    }
    return { ...obj, metadata: meta };
  }

  private parseContinue(token: string): ContinueToken {
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    } catch {
      throw badRequest('continue key is not valid');
    }
    if (!isRecord(parsed) || typeof parsed['rv'] !== 'number' || typeof parsed['after'] !== 'string') {
      throw badRequest('continue key is not valid');
    }
    if (parsed['rv'] < this.store.compactedRevision) {
      throw new ApiError(
        410,
        'Expired',
        'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.',
      );
    }
    return { rv: parsed['rv'], after: parsed['after'] };
  }
}

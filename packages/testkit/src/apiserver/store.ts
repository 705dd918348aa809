// The test API server's storage: objects per resource, one global resourceVersion counter
// across all kinds (as etcd's revision), and a bounded history of changes for watches.
// History older than `compactedRevision` is gone: a watch from before it gets 410 Expired.
//
// `get/list/put/delete` are for tests and bypass the REST rules (no conflicts, status is
// written as given); they still bump the resourceVersion and notify watches.

import { randomUUID } from 'node:crypto';

import type { ResourceRegistry, ResourceType } from './resources.js';
import { apiVersionOf } from './resources.js';
import { matchesFilter, parseFilter } from './selectors.js';
import type { KubeObject, StoredObject, WatchEventType } from './types.js';
import { isRecord } from './types.js';

export interface StoreEvent {
  type: WatchEventType;
  resource: ResourceType;
  /** The object after the change; for DELETED, the last state with the deletion's resourceVersion. */
  object: StoredObject;
  /** The object before the change (MODIFIED and DELETED). */
  previous: StoredObject | undefined;
  resourceVersion: number;
}

export type StoreListener = (event: StoreEvent) => void;

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export const DEFAULT_HISTORY_SIZE = 1000;

/** Kubernetes timestamps have second precision: 2024-05-01T12:00:00Z. */
export function kubeTimestamp(date = new Date()): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function objectKey(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

/** etcd's key order: byte order of `namespace/name` (code units; Kubernetes names are ASCII). */
export function compareObjectKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `namespace/name` of a stored object, the key lists are ordered and continued by. */
export function listKey(o: StoredObject): string {
  return objectKey(o.metadata.namespace, o.metadata.name);
}

export class ObjectStore {
  private readonly objects = new Map<ResourceType, Map<string, StoredObject>>();
  /** Each type's objects in key order, kept until the type's next write (a list is then a slice, not a sort). */
  private readonly ordered = new Map<ResourceType, readonly StoredObject[]>();
  private readonly history: StoreEvent[] = [];
  private readonly listeners = new Set<StoreListener>();
  private revision = 0;
  private compacted = 0;

  constructor(
    readonly registry: ResourceRegistry,
    private readonly historySize: number = DEFAULT_HISTORY_SIZE,
  ) {
    if (!Number.isInteger(historySize) || historySize < 1) {
      throw new Error(`historySize must be a positive integer, got ${historySize}`);
    }
  }

  /** The latest resourceVersion handed out, as the string the API uses. */
  get resourceVersion(): string {
    return String(this.revision);
  }

  /** Watches from a resourceVersion below this get 410 Expired. */
  get compactedRevision(): number {
    return this.compacted;
  }

  // ---- test-facing API (by resource name) -------------------------------------------

  get(resource: string, name: string, namespace?: string): StoredObject | undefined {
    const type = this.registry.resolve(resource);
    const found = this.read(type, type.namespaced ? (namespace ?? 'default') : undefined, name);
    return found === undefined ? undefined : structuredClone(found);
  }

  list(resource: string, options: ListOptions = {}): StoredObject[] {
    const type = this.registry.resolve(resource);
    const filter = parseFilter(options.labelSelector, options.fieldSelector, type.fieldLabels);
    return this.items(type, options.namespace)
      .filter((o) => matchesFilter(filter, o))
      .map((o) => structuredClone(o));
  }

  /**
   * Create or replace as given (status included); fills kind, apiVersion, uid, timestamps.
   * Takes any object, client-node's typed models included (stored as their JSON form).
   */
  put(resource: string, object: object): StoredObject {
    const type = this.registry.resolve(resource);
    const next = JSON.parse(JSON.stringify(object)) as KubeObject;
    const meta = isRecord(next.metadata) ? next.metadata : {};
    if (typeof meta.name !== 'string' || meta.name === '') {
      throw new Error(`store.put(${resource}): metadata.name is required`);
    }
    if (type.namespaced) {
      meta.namespace = meta.namespace ?? 'default';
    } else {
      delete meta.namespace;
    }
    const current = this.read(type, meta.namespace, meta.name);
    next.metadata = {
      ...meta,
      uid: meta.uid ?? current?.metadata.uid ?? randomUUID(),
      creationTimestamp: meta.creationTimestamp ?? current?.metadata.creationTimestamp ?? kubeTimestamp(),
      generation: meta.generation ?? current?.metadata.generation ?? 1,
    };
    return structuredClone(this.write(type, next));
  }

  delete(resource: string, name: string, namespace?: string): StoredObject | undefined {
    const type = this.registry.resolve(resource);
    const removed = this.remove(type, type.namespaced ? (namespace ?? 'default') : undefined, name);
    return removed === undefined ? undefined : structuredClone(removed);
  }

  /** Forget all history up to now: watches from any older resourceVersion get 410. */
  compact(): void {
    this.history.length = 0;
    this.compacted = this.revision;
  }

  // ---- server-facing API (by resource type; returns stored objects, do not mutate) ---

  read(type: ResourceType, namespace: string | undefined, name: string): StoredObject | undefined {
    return this.objects.get(type)?.get(objectKey(namespace, name));
  }

  /** Objects of a type, sorted by namespace then name (etcd key order). */
  items(type: ResourceType, namespace?: string): StoredObject[] {
    let all = this.ordered.get(type);
    if (all === undefined) {
      const keyed = [...(this.objects.get(type) ?? new Map<string, StoredObject>())].sort(([a], [b]) => compareObjectKeys(a, b));
      all = keyed.map(([, o]) => o);
      this.ordered.set(type, all);
    }
    return namespace === undefined ? [...all] : all.filter((o) => o.metadata.namespace === namespace);
  }

  /** Store an object under a new resourceVersion and notify watches; returns what was stored. */
  write(type: ResourceType, object: KubeObject): StoredObject {
    const name = object.metadata?.name;
    if (name === undefined) {
      throw new Error('write: metadata.name is required');
    }
    const namespace = type.namespaced ? object.metadata?.namespace : undefined;
    const key = objectKey(namespace, name);
    let bucket = this.objects.get(type);
    if (bucket === undefined) {
      bucket = new Map();
      this.objects.set(type, bucket);
    }
    const previous = bucket.get(key);
    const rv = ++this.revision;
    const stored = {
      ...object,
      apiVersion: apiVersionOf(type),
      kind: type.kind,
      metadata: { ...object.metadata, name, resourceVersion: String(rv) },
    } as StoredObject;
    if (namespace === undefined) {
      delete stored.metadata.namespace;
    }
    bucket.set(key, stored);
    this.ordered.delete(type);
    this.record({ type: previous === undefined ? 'ADDED' : 'MODIFIED', resource: type, object: stored, previous, resourceVersion: rv });
    return stored;
  }

  remove(type: ResourceType, namespace: string | undefined, name: string): StoredObject | undefined {
    const bucket = this.objects.get(type);
    const key = objectKey(namespace, name);
    const previous = bucket?.get(key);
    if (bucket === undefined || previous === undefined) {
      return undefined;
    }
    bucket.delete(key);
    this.ordered.delete(type);
    const rv = ++this.revision;
    const object = { ...previous, metadata: { ...previous.metadata, resourceVersion: String(rv) } };
    this.record({ type: 'DELETED', resource: type, object, previous, resourceVersion: rv });
    return object;
  }

  /**
   * Changes after `resourceVersion` (any resource), or undefined when some of them are no
   * longer retained (the caller answers 410 Expired).
   */
  changesSince(resourceVersion: number): StoreEvent[] | undefined {
    if (resourceVersion < this.compacted) {
      return undefined;
    }
    return this.history.filter((e) => e.resourceVersion > resourceVersion);
  }

  subscribe(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private record(event: StoreEvent): void {
    this.history.push(event);
    while (this.history.length > this.historySize) {
      const dropped = this.history.shift();
      if (dropped !== undefined) {
        this.compacted = dropped.resourceVersion;
      }
    }
    for (const listener of [...this.listeners]) {
      listener(event);
    }
  }
}

// Watch streams: newline-delimited JSON `{type, object}` over a chunked 200 response.
//   resourceVersion absent or "0": synthetic ADDED for current objects, then live changes
//   resourceVersion N: replay retained changes after N, then live; N too old → one ERROR
//     event carrying a 410 Expired Status, then the stream ends (as the real server does)
//   allowWatchBookmarks: BOOKMARK {kind, apiVersion, metadata.resourceVersion} periodically
//   timeoutSeconds: the stream ends cleanly after that long
// With selectors, a change that moves an object into the selection is ADDED and one that
// moves it out is DELETED, as the real server's watch cache reports them.

import type { IncomingMessage, ServerResponse } from 'node:http';

import type { ResourceType } from './resources.js';
import { apiVersionOf } from './resources.js';
import type { ObjectFilter } from './selectors.js';
import { matchesFilter } from './selectors.js';
import { expired } from './status.js';
import type { ObjectStore, StoreEvent } from './store.js';
import type { KubeObject, StoredObject } from './types.js';

export interface WatchRequest {
  type: ResourceType;
  /** undefined: all namespaces (or a cluster-scoped kind). */
  namespace: string | undefined;
  filter: ObjectFilter;
  resourceVersion: string | undefined;
  bookmarks: boolean;
  timeoutSeconds: number | undefined;
  sendInitialEvents: boolean;
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: KubeObject;
}

export interface WatchHubOptions {
  bookmarkIntervalMs: number;
  /** Applied when the client gives no timeoutSeconds; undefined = never. */
  defaultTimeoutSeconds: number | undefined;
}

interface OpenWatch {
  res: ServerResponse;
  close(how: 'end' | 'destroy'): void;
}

/** The open watch streams of one server, so tests can cut them. */
export class WatchHub {
  private readonly open = new Set<OpenWatch>();

  constructor(
    private readonly store: ObjectStore,
    private readonly options: WatchHubOptions,
  ) {}

  get openCount(): number {
    return this.open.size;
  }

  serve(req: IncomingMessage, res: ServerResponse, watch: WatchRequest): void {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
    res.flushHeaders();
    const send = (event: WatchEvent): void => {
      res.write(`${JSON.stringify(event)}\n`);
    };

    const rv = watch.resourceVersion;
    let backlog: WatchEvent[];
    if (rv === undefined || rv === '' || rv === '0') {
      backlog = this.store
        .items(watch.type, watch.namespace)
        .filter((o) => matchesFilter(watch.filter, o))
        .map((object) => ({ type: 'ADDED', object }));
    } else {
      const changes = this.store.changesSince(Number(rv));
      if (changes === undefined) {
        const status = expired(`too old resource version: ${rv} (${this.store.compactedRevision})`).toStatus();
        send({ type: 'ERROR', object: status as unknown as KubeObject });
        res.end();
        return;
      }
      backlog = changes.flatMap((c) => this.translate(watch, c));
    }

    const timers: NodeJS.Timeout[] = [];
    let closed = false;
    const unsubscribe = this.store.subscribe((change) => {
      for (const event of this.translate(watch, change)) send(event);
    });
    const entry: OpenWatch = {
      res,
      close: (how) => {
        if (how === 'destroy') res.destroy();
        else res.end();
        cleanup();
      },
    };
    const cleanup = (): void => {
      if (closed) return;
      closed = true;
      unsubscribe();
      for (const t of timers) clearTimeout(t);
      this.open.delete(entry);
    };
    this.open.add(entry);
    res.on('close', cleanup);
    req.on('close', cleanup);

    for (const event of backlog) send(event);
    if (watch.sendInitialEvents && watch.bookmarks) {
      send(this.bookmark(watch.type, { 'k8s.io/initial-events-end': 'true' }));
    }
    if (watch.bookmarks) {
      const interval = setInterval(() => send(this.bookmark(watch.type)), this.options.bookmarkIntervalMs);
      interval.unref();
      timers.push(interval);
    }
    const timeout = watch.timeoutSeconds ?? this.options.defaultTimeoutSeconds;
    if (timeout !== undefined && timeout > 0) {
      const t = setTimeout(() => entry.close('end'), timeout * 1000);
      t.unref();
      timers.push(t);
    }
  }

  /** Abruptly destroy every open watch connection (a network cut mid-stream). */
  cutAll(): number {
    const n = this.open.size;
    for (const w of [...this.open]) w.close('destroy');
    return n;
  }

  /** End every open watch cleanly (the client sees the stream end and reconnects). */
  endAll(): number {
    const n = this.open.size;
    for (const w of [...this.open]) w.close('end');
    return n;
  }

  private bookmark(type: ResourceType, annotations?: Record<string, string>): WatchEvent {
    return {
      type: 'BOOKMARK',
      object: {
        kind: type.kind,
        apiVersion: apiVersionOf(type),
        metadata: { resourceVersion: this.store.resourceVersion, ...(annotations === undefined ? {} : { annotations }) },
      },
    };
  }

  /** A store change as this watch sees it: 0 or 1 events. */
  private translate(watch: WatchRequest, change: StoreEvent): WatchEvent[] {
    if (change.resource !== watch.type) return [];
    const visible = (o: StoredObject | undefined): o is StoredObject =>
      o !== undefined &&
      (watch.namespace === undefined || o.metadata.namespace === watch.namespace) &&
      matchesFilter(watch.filter, o);
    if (change.type === 'DELETED') {
      return visible(change.object) ? [{ type: 'DELETED', object: change.object }] : [];
    }
    const now = visible(change.object);
    const before = change.type === 'MODIFIED' && visible(change.previous);
    if (now && before) return [{ type: 'MODIFIED', object: change.object }];
    if (now) return [{ type: 'ADDED', object: change.object }];
    if (before && change.previous !== undefined) {
      const gone = { ...change.previous, metadata: { ...change.previous.metadata, resourceVersion: change.object.metadata.resourceVersion } };
      return [{ type: 'DELETED', object: gone }];
    }
    return [];
  }
}

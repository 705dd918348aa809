// Read-your-writes for the status writer. After a status write the policy cache shows the old
// object until the watch delivers the new one; a pass in between (the agent's programmed state
// changed, say) would compute from the stale copy, see a difference and write again with a
// stale resourceVersion (a 409 for nothing). So the API server's answer to each write is kept
// and used in place of the cached copy while the cache still shows the version the write was
// made over; once the cache shows anything else, the cached copy is the newer one.

import { asString, prop } from '@balanced/k8s';

interface Written {
  /** resourceVersion of the cached copy when we wrote. */
  readonly over: string;
  /** The object as the API server answered the write. */
  readonly object: unknown;
}

export class RecentWrites {
  private readonly entries = new Map<string, Written>();

  get size(): number {
    return this.entries.size;
  }

  /** A write made over version `over` (as overlay() gave it) was answered with `object`. */
  remember(over: string | undefined, object: unknown): void {
    const key = keyOf(object);
    if (over === undefined || over === '' || key === undefined) return;
    const previous = this.entries.get(key);
    // Written over our own earlier copy: the cache still shows the version before that one.
    const cached = previous !== undefined && versionOf(previous.object) === over ? previous.over : over;
    this.entries.set(key, { over: cached, object });
  }

  /** The cached objects, with our written copy in place of each the cache has not caught up with. */
  overlay(cached: readonly unknown[]): unknown[] {
    if (this.entries.size === 0) return [...cached];
    const present = new Set<string>();
    const out = cached.map((object) => {
      const key = keyOf(object);
      if (key === undefined) return object;
      present.add(key);
      const written = this.entries.get(key);
      if (written === undefined) return object;
      if (written.over === versionOf(object)) return written.object;
      this.entries.delete(key);
      return object;
    });
    for (const key of this.entries.keys()) if (!present.has(key)) this.entries.delete(key);
    return out;
  }

  clear(): void {
    this.entries.clear();
  }
}

function keyOf(object: unknown): string | undefined {
  const kind = asString(prop(object, 'kind'));
  const name = asString(prop(prop(object, 'metadata'), 'name'));
  return kind === undefined || name === undefined ? undefined : `${kind}/${name}`;
}

function versionOf(object: unknown): string | undefined {
  return asString(prop(prop(object, 'metadata'), 'resourceVersion'));
}

import { createNetns, deleteNetns } from '../netns.js';
import { addLocalAddresses } from './addresses.js';
import { createTestPinRoot, removeTestPinRoot } from './bpffs.js';
import { createTestCgroup, removeTestCgroup } from './cgroup.js';
import { startIdentityServers, type IdentityServers, type IdentityServersOptions } from './identity-servers.js';
import { startResolverClient, type ResolverClient, type ResolverClientOptions } from './resolver-client.js';

/** What a resolver test made; everything is removed when {@link withResolverLab} returns. */
export interface ResolverLabScope {
  /** A test netns (lo up). */
  netns(name?: string): Promise<string>;
  /** A fresh cgroup v2 folder. */
  cgroup(prefix?: string): Promise<string>;
  /** A fresh bpffs folder for pins (bpffs mounted if needed). */
  pinRoot(prefix?: string): Promise<string>;
  addresses(netns: string, addresses: readonly string[]): Promise<void>;
  servers(options: IdentityServersOptions): Promise<IdentityServers>;
  client(options: ResolverClientOptions): Promise<ResolverClient>;
  /** Runs `fn` at cleanup, before processes are stopped (e.g. detach a loader). LIFO. */
  defer(fn: () => Promise<void> | void): void;
}

/**
 * Runs `fn` with a scope; afterwards (even on throw) stops its processes, runs deferred
 * cleanups, removes pin folders (unpinning links detaches programs), cgroups (killing what is
 * left in them) and namespaces, in that order. Cleanup errors are collected and thrown after
 * everything was tried (unless `fn` threw: its error wins).
 */
export async function withResolverLab<T>(fn: (lab: ResolverLabScope) => Promise<T>): Promise<T> {
  const namespaces: string[] = [];
  const cgroups: string[] = [];
  const pins: string[] = [];
  const processes: { stop(): Promise<void> }[] = [];
  const deferred: (() => Promise<void> | void)[] = [];
  const lab: ResolverLabScope = {
    async netns(name) {
      const n = await createNetns(name);
      namespaces.push(n);
      return n;
    },
    async cgroup(prefix) {
      const c = await createTestCgroup(prefix);
      cgroups.push(c);
      return c;
    },
    async pinRoot(prefix) {
      const p = await createTestPinRoot(prefix);
      pins.push(p);
      return p;
    },
    addresses: addLocalAddresses,
    async servers(options) {
      const s = await startIdentityServers(options);
      processes.push(s);
      return s;
    },
    async client(options) {
      const c = await startResolverClient(options);
      processes.push(c);
      return c;
    },
    defer(fn) {
      deferred.push(fn);
    },
  };
  let failed = false;
  try {
    return await fn(lab);
  } catch (e) {
    failed = true;
    throw e;
  } finally {
    const errors: unknown[] = [];
    const attempt = async (f: () => Promise<void> | void) => {
      try {
        await f();
      } catch (e) {
        errors.push(e);
      }
    };
    for (const f of deferred.reverse()) await attempt(f);
    for (const p of processes.reverse()) await attempt(() => p.stop());
    for (const p of pins.reverse()) await attempt(() => removeTestPinRoot(p));
    for (const c of cgroups.reverse()) await attempt(() => removeTestCgroup(c));
    for (const n of namespaces.reverse()) await attempt(() => deleteNetns(n));
    // Only when `fn` succeeded: a cleanup failure then replaces its result, never its error.
    // eslint-disable-next-line no-unsafe-finally
    if (!failed && errors.length > 0) throw new AggregateError(errors, `resolver lab cleanup failed: ${errors.map(String).join('; ')}`);
  }
}

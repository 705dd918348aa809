import { spawn, type ChildProcess } from 'node:child_process';
import { run, runChecked, type ExecResult } from './exec.js';

let counter = 0;

/**
 * A name unique to this process and call: `<prefix><pid base36>-<counter base36>`.
 * Short enough for an interface name (15 chars) when the prefix is 4 chars or less.
 */
export function uniqueName(prefix: string): string {
  counter += 1;
  const name = `${prefix}${process.pid.toString(36)}-${counter.toString(36)}`;
  if (name.length > 15) throw new Error(`generated name ${name} exceeds 15 characters; use a shorter prefix`);
  return name;
}

function ip(netns: string | undefined, ...args: string[]): Promise<string> {
  return runChecked('ip', netns === undefined ? args : ['-n', netns, ...args]);
}

/** Creates a network namespace with lo up; returns its name (default: unique `bln…`). */
export async function createNetns(name: string = uniqueName('bln')): Promise<string> {
  await ip(undefined, 'netns', 'add', name);
  try {
    await ip(name, 'link', 'set', 'lo', 'up');
  } catch (e) {
    await deleteNetns(name);
    throw e;
  }
  return name;
}

/** Deletes a network namespace (its interfaces go with it). Missing namespaces are ignored. */
export async function deleteNetns(name: string): Promise<void> {
  const r = await run('ip', ['netns', 'delete', name]);
  if (r.code !== 0 && !/No such file|Invalid argument|not found/i.test(r.stderr)) {
    throw new Error(`ip netns delete ${name} failed: ${r.stderr.trim()}`);
  }
}

export interface VethEndSpec {
  /** Namespace for this end; undefined = the current (root) namespace. */
  readonly netns?: string;
  /** Interface name (default: unique `blv…`). */
  readonly name?: string;
  /** Address with prefix length, e.g. "10.200.0.1/24". */
  readonly address?: string;
}

export interface VethEnd {
  readonly name: string;
  readonly netns: string | undefined;
}

export interface VethPair {
  readonly a: VethEnd;
  readonly b: VethEnd;
}

/** Creates a veth pair between two namespaces (or the root namespace), addresses it, brings both ends up. */
export async function createVethPair(a: VethEndSpec, b: VethEndSpec): Promise<VethPair> {
  const nameA = a.name ?? uniqueName('blv');
  const nameB = b.name ?? uniqueName('blv');
  await ip(undefined, 'link', 'add', nameA, 'type', 'veth', 'peer', 'name', nameB);
  try {
    for (const [name, spec] of [[nameA, a], [nameB, b]] as const) {
      if (spec.netns !== undefined) await ip(undefined, 'link', 'set', name, 'netns', spec.netns);
      if (spec.address !== undefined) await ip(spec.netns, 'addr', 'add', spec.address, 'dev', name);
      await ip(spec.netns, 'link', 'set', name, 'up');
    }
  } catch (e) {
    await deleteVeth({ name: nameA, netns: a.netns }).catch(() => undefined);
    throw e;
  }
  return { a: { name: nameA, netns: a.netns }, b: { name: nameB, netns: b.netns } };
}

/** Deletes a veth interface (and so its peer). Missing interfaces are ignored. */
export async function deleteVeth(end: VethEnd): Promise<void> {
  const args = ['link', 'delete', end.name];
  await run('ip', end.netns === undefined ? args : ['-n', end.netns, ...args]);
}

/** Runs a program inside a namespace (`ip netns exec`) and returns its status and output. */
export function execInNetns(
  netns: string,
  file: string,
  args: readonly string[] = [],
  options: { input?: string; timeoutMs?: number } = {},
): Promise<ExecResult> {
  return run('ip', ['netns', 'exec', netns, file, ...args], options);
}

/** Starts a long-running program inside a namespace; the caller stops it (by its pid). */
export function spawnInNetns(netns: string, file: string, args: readonly string[] = []): ChildProcess {
  return spawn('ip', ['netns', 'exec', netns, file, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Namespaces and veths created through it are removed when {@link withNetns} returns. */
export interface NetnsScope {
  /** Creates a namespace (lo up) owned by the scope. */
  netns(name?: string): Promise<string>;
  /** Creates a veth pair owned by the scope. */
  veth(a: VethEndSpec, b: VethEndSpec): Promise<VethPair>;
  /** `ip netns exec` shortcut. */
  exec(netns: string, file: string, args?: readonly string[], options?: { input?: string; timeoutMs?: number }): Promise<ExecResult>;
}

/** Runs `fn` with a scope whose namespaces and veths are always deleted afterwards (even on throw). */
export async function withNetns<T>(fn: (scope: NetnsScope) => Promise<T>): Promise<T> {
  const namespaces: string[] = [];
  const veths: VethEnd[] = [];
  const scope: NetnsScope = {
    async netns(name) {
      const created = await createNetns(name);
      namespaces.push(created);
      return created;
    },
    async veth(a, b) {
      const pair = await createVethPair(a, b);
      veths.push(pair.a);
      return pair;
    },
    exec: execInNetns,
  };
  try {
    return await fn(scope);
  } finally {
    for (const v of veths.reverse()) await deleteVeth(v).catch(() => undefined);
    for (const n of namespaces.reverse()) await deleteNetns(n).catch(() => undefined);
  }
}

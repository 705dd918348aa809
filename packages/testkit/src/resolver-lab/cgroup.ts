import { mkdir, readFile, readdir, rmdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

/** Where the host's cgroup v2 hierarchy is mounted (LAB.md). */
export const CGROUP2_ROOT = '/sys/fs/cgroup/unified';

let cgroupCounter = 0;

/** Pids listed in a `cgroup.procs` file (one per line). */
export function parseCgroupProcs(text: string): number[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^\d+$/.test(l))
    .map(Number);
}

/** Throws unless `path` is a folder strictly below `root` (never the root itself). */
export function assertBelow(root: string, path: string, what: string): string {
  const full = resolve(path);
  const base = resolve(root);
  if (!full.startsWith(`${base}/`) || full.length <= base.length + 1) {
    throw new Error(`${what}: ${path} is not a folder below ${base}`);
  }
  return full;
}

/**
 * Creates a fresh cgroup v2 folder `<root>/<prefix>-<pid>-<n>-<random>`. mkdir is not
 * recursive, so an existing cgroup is never reused (EEXIST ⇒ another name is tried).
 */
export async function createTestCgroup(prefix = 'balanced-test', root: string = CGROUP2_ROOT): Promise<string> {
  if (!/^[A-Za-z0-9_.-]+$/.test(prefix)) throw new Error(`bad cgroup prefix ${JSON.stringify(prefix)}`);
  for (let attempt = 0; attempt < 10; attempt += 1) {
    cgroupCounter += 1;
    const name = `${prefix}-${process.pid}-${cgroupCounter}-${Math.random().toString(36).slice(2, 8)}`;
    const path = join(root, name);
    try {
      await mkdir(path);
      return path;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  throw new Error(`could not create a unique cgroup under ${root}`);
}

/** Pids in the cgroup itself (not its children); [] when it is gone. */
export async function cgroupPids(path: string): Promise<number[]> {
  try {
    return parseCgroupProcs(await readFile(join(path, 'cgroup.procs'), 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/** Moves a process into a cgroup (write to cgroup.procs). */
export async function joinCgroup(path: string, pid: number): Promise<void> {
  await writeFile(join(path, 'cgroup.procs'), `${pid}\n`);
}

/** The cgroup v2 path of a process relative to the hierarchy root, e.g. `/balanced-test-…`. */
export async function cgroupOfPid(pid: number): Promise<string | undefined> {
  const text = await readFile(`/proc/${pid}/cgroup`, 'utf8');
  return text.split('\n').find((l) => l.startsWith('0::'))?.slice(3);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Removes a test cgroup and its child cgroups: kills every process still in them
 * (cgroup.kill where the kernel has it, and SIGKILL per pid), waits until they are empty
 * (bounded: 10 s), then rmdir's them, deepest first. A missing cgroup is ignored.
 */
export async function removeTestCgroup(path: string, root: string = CGROUP2_ROOT): Promise<void> {
  const full = assertBelow(root, path, 'removeTestCgroup');
  let entries;
  try {
    entries = await readdir(full, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  for (const child of entries) if (child.isDirectory()) await removeTestCgroup(join(full, child.name), root);
  await writeFile(join(full, 'cgroup.kill'), '1\n').catch(() => undefined);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const pids = await cgroupPids(full);
    if (pids.length === 0) break;
    if (Date.now() > deadline) throw new Error(`cgroup ${full} still holds ${pids.join(', ')} after 10 s`);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await sleep(20);
  }
  // The last process may still be leaving (zombie reaping) a moment after cgroup.procs empties.
  for (let attempt = 0; ; attempt += 1) {
    try {
      await rmdir(full);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || attempt >= 200) throw e;
      await sleep(25);
    }
  }
}

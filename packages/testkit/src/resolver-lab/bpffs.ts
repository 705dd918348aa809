import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { runChecked } from '../exec.js';
import { assertBelow } from './cgroup.js';

export const BPFFS_ROOT = '/sys/fs/bpf';

/** True when `/proc/mounts` text has a bpf filesystem mounted at `mountPoint`. */
export function isBpfMounted(procMounts: string, mountPoint: string = BPFFS_ROOT): boolean {
  return procMounts.split('\n').some((line) => {
    const [, at, type] = line.split(' ');
    return at === mountPoint && type === 'bpf';
  });
}

/** Mounts bpffs on /sys/fs/bpf unless a bpf filesystem is already there (a fresh machine has none). */
export async function ensureBpffs(mountPoint: string = BPFFS_ROOT): Promise<void> {
  if (isBpfMounted(await readFile('/proc/mounts', 'utf8'), mountPoint)) return;
  await mkdir(mountPoint, { recursive: true });
  await runChecked('mount', ['-t', 'bpf', 'bpf', mountPoint]);
}

let pinCounter = 0;

/** Creates `/sys/fs/bpf/<prefix>-<pid>-<n>-<random>` (bpffs mounted first); never an existing folder. */
export async function createTestPinRoot(prefix = 'balanced-test', root: string = BPFFS_ROOT): Promise<string> {
  if (!/^[A-Za-z0-9_.-]+$/.test(prefix)) throw new Error(`bad pin root prefix ${JSON.stringify(prefix)}`);
  if (root === BPFFS_ROOT) await ensureBpffs();
  for (let attempt = 0; attempt < 10; attempt += 1) {
    pinCounter += 1;
    const path = join(root, `${prefix}-${process.pid}-${pinCounter}-${Math.random().toString(36).slice(2, 8)}`);
    try {
      await mkdir(path);
      return path;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  throw new Error(`could not create a unique pin folder under ${root}`);
}

/**
 * Removes a test pin folder and everything pinned in it: unpinning the links detaches their
 * programs, unpinning the maps frees them once no program holds them. Missing is fine.
 */
export async function removeTestPinRoot(path: string, root: string = BPFFS_ROOT): Promise<void> {
  await rm(assertBelow(root, path, 'removeTestPinRoot'), { recursive: true, force: true });
}

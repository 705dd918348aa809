import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { LabBootError, ensureInitramfs, ensureVmlinux, findKernelVersion, labCacheDir, runInVm } from '@balanced/testkit';
import type { DownOptions, UpOptions } from '../commands/lab.js';
import { CliError, messageOf } from '../errors.js';
import type { CliIo } from '../io.js';
import { withProgress } from '../progress.js';
import { toJson } from '../table.js';

/** Files `lab up` makes in the lab cache (and `lab down` removes): the extracted kernel and the initramfs. */
const LAB_ARTIFACT = /^(vmlinux-.+|initramfs-.+\.cpio\.gz)$/;

/** Extracts the kernel and builds the initramfs in the lab cache (testkit's own steps); optionally boots once. */
export async function runLabUp(io: CliIo, o: UpOptions): Promise<void> {
  const cacheDir = o.cacheDir ?? labCacheDir();
  try {
    const version = findKernelVersion();
    const [vmlinux, initramfs] = await withProgress(io, `preparing the lab kernel ${version}`, () => Promise.all([ensureVmlinux(version, cacheDir), ensureInitramfs(version, cacheDir)]));
    let boot: { exitCode: number; durationMs: number; attempts: number } | undefined;
    if (o.bootCheck) {
      if (o.cacheDir !== undefined) throw new CliError('--boot-check boots from the default lab cache; leave out --cache-dir');
      const r = await withProgress(io, 'booting the lab VM', () => runInVm({ command: ['true'], timeoutMs: o.timeout * 1000 }));
      boot = { exitCode: r.exitCode, durationMs: r.durationMs, attempts: r.attempts };
      if (r.exitCode !== 0) throw new CliError(`the lab VM booted but \`true\` exited ${r.exitCode}`);
    }
    if (o.json === true) io.out(toJson({ kernel: version, cacheDir, vmlinux, initramfs, boot: boot ?? null }));
    else io.out(`lab ready: kernel ${version}\n  ${vmlinux}\n  ${initramfs}\n${boot !== undefined ? `  boot check: ok in ${(boot.durationMs / 1000).toFixed(1)} s\n` : ''}`);
  } catch (e) {
    if (e instanceof CliError) throw e;
    if (e instanceof LabBootError) throw new CliError(`lab VM boot failure: ${e.message}`);
    throw new CliError(`lab up: ${messageOf(e)}`);
  }

}

/** Removes the files `lab up` makes from the lab cache; nothing else. */
export async function runLabDown(io: CliIo, o: DownOptions): Promise<void> {
  const cacheDir = o.cacheDir ?? labCacheDir();
  let names: string[];
  try {
    names = await readdir(cacheDir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') names = [];
    else throw new CliError(`cannot read ${cacheDir}: ${messageOf(e)}`);
  }
  const removed = names.filter((n) => LAB_ARTIFACT.test(n)).sort();
  for (const n of removed) await rm(join(cacheDir, n), { force: true });
  if (o.json === true) io.out(toJson({ cacheDir, removed }));
  else io.out(removed.length > 0 ? `removed from ${cacheDir}:\n${removed.map((n) => `  ${n}\n`).join('')}` : `nothing to remove in ${cacheDir}\n`);

}

import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { labCacheDir } from '../repo-root.js';
import { runChecked } from '../exec.js';
import { cpioNewcGz, type CpioEntry } from './cpio.js';
import { renderInitScript } from './init-script.js';
import { writeFileAtomic } from './kernel.js';
import { xzDecompress } from './xz.js';

/** Modules the initramfs needs to reach the 9p root (dependencies are resolved by modprobe). */
export const INITRAMFS_MODULES = ['virtio_pci', '9pnet_virtio', '9p'] as const;
const BUSYBOX_CANDIDATES = ['/bin/busybox', '/usr/bin/busybox'];
/** Bump when the archive layout changes (part of the cache key). */
const LAYOUT_VERSION = '1';

/** Parses `modprobe --show-depends` output into module file paths, in order, without duplicates. */
export function parseShowDepends(output: string): string[] {
  const seen = new Set<string>();
  for (const line of output.split('\n')) {
    const m = /^insmod\s+(\S+)/.exec(line.trim());
    if (m?.[1] !== undefined) seen.add(m[1]);
  }
  return [...seen];
}

/** Module files (absolute paths) for the initramfs, dependencies first. */
export async function initramfsModuleFiles(version: string): Promise<string[]> {
  const out = await runChecked('modprobe', ['-a', '-S', version, '--show-depends', ...INITRAMFS_MODULES]);
  const files = parseShowDepends(out);
  if (files.length === 0) throw new Error(`modprobe -S ${version} --show-depends found no modules`);
  return files;
}

/** Guest name of a module file: compressed modules are stored decompressed. */
function storedName(file: string): string {
  return basename(file).replace(/\.(xz|zst|gz)$/, '');
}

async function readModule(file: string): Promise<Buffer> {
  if (file.endsWith('.xz')) return xzDecompress(await readFile(file));
  if (file.endsWith('.ko')) return readFile(file);
  throw new Error(`unsupported module compression: ${file}`);
}

/** Content hash keying the cached initramfs: init script + kernel version + layout. */
export function initramfsKey(initScript: string, version: string): string {
  return createHash('sha256').update(`${LAYOUT_VERSION}\0${version}\0${initScript}`).digest('hex').slice(0, 16);
}

/** Path of the cached gzip cpio initramfs for `version`, building it on first use. */
export async function ensureInitramfs(version: string, cacheDir = labCacheDir()): Promise<string> {
  const moduleFiles = await initramfsModuleFiles(version);
  const init = renderInitScript({ initramfsModules: moduleFiles.map(storedName) });
  const path = join(cacheDir, `initramfs-${version}-${initramfsKey(init, version)}.cpio.gz`);
  if (existsSync(path)) return path;

  const busybox = BUSYBOX_CANDIDATES.find((p) => existsSync(p));
  if (busybox === undefined) throw new Error('busybox not found: apt-get install busybox-static');
  const entries: CpioEntry[] = [
    ...['bin', 'dev', 'mods', 'newroot', 'proc', 'sys'].map((d): CpioEntry => ({ path: d, type: 'dir' })),
    { path: 'dev/console', type: 'chardev', rdev: { major: 5, minor: 1 } },
    { path: 'bin/busybox', type: 'file', mode: 0o755, data: await readFile(busybox) },
    { path: 'init', type: 'file', mode: 0o755, data: Buffer.from(init) },
  ];
  for (const file of moduleFiles) {
    entries.push({ path: `mods/${storedName(file)}`, type: 'file', data: await readModule(file) });
  }
  await mkdir(cacheDir, { recursive: true });
  await writeFileAtomic(path, cpioNewcGz(entries));
  // drop archives of earlier init scripts for this kernel
  for (const f of await readdir(cacheDir)) {
    if (f.startsWith(`initramfs-${version}-`) && f.endsWith('.cpio.gz') && join(cacheDir, f) !== path) {
      await rm(join(cacheDir, f), { force: true });
    }
  }
  return path;
}

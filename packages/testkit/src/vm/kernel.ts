import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { labCacheDir } from '../repo-root.js';
import { xzDecompress } from './xz.js';

/** Environment variable that forces a kernel version (e.g. `6.1.0-56-amd64`). */
export const KERNEL_ENV = 'BALANCED_LAB_KERNEL';

const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);

/** Orders kernel versions numerically part by part ("6.1.0-56" > "6.1.0-9"). */
export function compareKernelVersions(a: string, b: string): number {
  const pa = a.split(/[^0-9]+/).filter((s) => s !== '').map(Number);
  const pb = b.split(/[^0-9]+/).filter((s) => s !== '').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? -1) - (pb[i] ?? -1);
    if (d !== 0) return d;
  }
  return a.localeCompare(b);
}

/**
 * Pure selection: from the file names in /boot, the newest `vmlinuz-<ver>-amd64` for which
 * `hasNinep(ver)` holds (its modules include net/9p). `override` wins when given.
 */
export function selectKernelVersion(
  bootFiles: readonly string[],
  hasNinep: (version: string) => boolean,
  override?: string,
): string | undefined {
  if (override !== undefined && override !== '') return override;
  const versions = bootFiles
    .map((f) => /^vmlinuz-(.+-amd64)$/.exec(f)?.[1])
    .filter((v): v is string => v !== undefined && hasNinep(v))
    .sort(compareKernelVersions);
  return versions.at(-1);
}

/** The Debian kernel version the lab boots (BALANCED_LAB_KERNEL overrides). */
export function findKernelVersion(): string {
  const bootFiles = existsSync('/boot') ? readdirSync('/boot') : [];
  const version = selectKernelVersion(
    bootFiles,
    (v) => existsSync(`/lib/modules/${v}/kernel/net/9p`),
    process.env[KERNEL_ENV],
  );
  if (version === undefined) {
    throw new Error('no /boot/vmlinuz-*-amd64 with 9p modules in /lib/modules: apt-get install linux-image-amd64 (the cloud kernel lacks 9p)');
  }
  if (!existsSync(`/boot/vmlinuz-${version}`)) throw new Error(`/boot/vmlinuz-${version} does not exist`);
  return version;
}

/** Extracts the uncompressed ELF vmlinux from the xz payload of a bzImage. */
export async function extractVmlinux(bzImage: Buffer): Promise<Buffer> {
  const at = bzImage.indexOf(XZ_MAGIC);
  if (at < 0) throw new Error('no xz payload in the kernel image');
  const elf = await xzDecompress(bzImage.subarray(at));
  if (!elf.subarray(0, 4).equals(ELF_MAGIC)) throw new Error('decompressed kernel payload is not an ELF file');
  return elf;
}

/** Writes a file atomically (temp name + rename) so concurrent runs never see half a file. */
export async function writeFileAtomic(path: string, data: Buffer): Promise<void> {
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

/** Path of the cached uncompressed vmlinux for `version`, extracting it on first use. */
export async function ensureVmlinux(version: string, cacheDir = labCacheDir()): Promise<string> {
  const path = join(cacheDir, `vmlinux-${version}`);
  if (existsSync(path)) return path;
  await mkdir(cacheDir, { recursive: true });
  const elf = await extractVmlinux(await readFile(`/boot/vmlinuz-${version}`));
  await writeFileAtomic(path, elf);
  return path;
}

import { readFile } from 'node:fs/promises';
import { release as osRelease } from 'node:os';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { InvalidTabIndexError } from './errors.js';
import { MH_DEFAULT_TAB_INDEX, mhTableSize } from './kernel-mh.js';

const gunzipAsync = promisify(gunzip);

export interface KernelMhConfig {
  /** CONFIG_IP_VS_MH_TAB_INDEX (the kernel's default 12 when the config does not set it). */
  readonly tabIndex: number;
  /** M = primes[tabIndex − 8]. */
  readonly tableSize: number;
  /** The file read, or null when none was found and the defaults apply. */
  readonly source: string | null;
  /** CONFIG_IP_VS_MH: 'm' module, 'y' built in, 'n' absent, null = no config read. */
  readonly mh: 'y' | 'm' | 'n' | null;
}

/**
 * Reads the mh settings out of kernel config text (`.config` syntax). Pure.
 * @throws InvalidTabIndexError when CONFIG_IP_VS_MH_TAB_INDEX is set outside 8..17.
 */
export function parseKernelMhConfig(text: string, source: string | null = null): KernelMhConfig {
  let tabIndex = MH_DEFAULT_TAB_INDEX;
  let mh: 'y' | 'm' | 'n' = 'n';
  for (const line of text.split('\n')) {
    const tab = /^CONFIG_IP_VS_MH_TAB_INDEX=(.*)$/.exec(line.trim());
    if (tab) {
      const value = Number(tab[1]);
      if (!Number.isInteger(value)) throw new InvalidTabIndexError(value);
      tabIndex = value;
      continue;
    }
    const mod = /^CONFIG_IP_VS_MH=([ym])$/.exec(line.trim());
    if (mod) mh = mod[1] as 'y' | 'm';
  }
  return { tabIndex, tableSize: mhTableSize(tabIndex), source, mh };
}

export interface ReadKernelMhConfigOptions {
  /** Kernel release for /boot/config-<release>; default `uname -r` of this host. */
  readonly release?: string;
  /** Files to try, in order; default `/boot/config-<release>`, then `/proc/config.gz`. */
  readonly paths?: readonly string[];
}

/**
 * Finds the running (or named) kernel's config and returns its mh table settings.
 * The only I/O in this package. A `.gz` file is decompressed. No readable file →
 * the kernel defaults (tab index 12, M = 4093) with `source: null`.
 */
export async function readKernelMhConfig(options: ReadKernelMhConfigOptions = {}): Promise<KernelMhConfig> {
  const release = options.release ?? osRelease();
  const paths = options.paths ?? [`/boot/config-${release}`, '/proc/config.gz'];
  for (const path of paths) {
    let raw: Buffer;
    try {
      raw = await readFile(path);
    } catch {
      continue;
    }
    const text = (path.endsWith('.gz') ? await gunzipAsync(raw) : raw).toString('utf8');
    return parseKernelMhConfig(text, path);
  }
  return { tabIndex: MH_DEFAULT_TAB_INDEX, tableSize: mhTableSize(MH_DEFAULT_TAB_INDEX), source: null, mh: null };
}

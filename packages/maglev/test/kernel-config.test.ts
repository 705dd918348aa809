import { describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readKernelMhConfig } from '../src/index.js';
import { InvalidTabIndexError } from '../src/errors.js';
import { parseKernelMhConfig } from '../src/kernel-config.js';

const DEBIAN = ['CONFIG_IP_VS=m', 'CONFIG_IP_VS_IPV6=y', 'CONFIG_IP_VS_MH=m', 'CONFIG_IP_VS_MH_TAB_INDEX=12', ''].join('\n');

describe('parseKernelMhConfig', () => {
  it('reads the tab index and the mh tristate', () => {
    expect(parseKernelMhConfig(DEBIAN, 'x')).toEqual({ tabIndex: 12, tableSize: 4093, source: 'x', mh: 'm' });
    expect(parseKernelMhConfig('CONFIG_IP_VS_MH=y\nCONFIG_IP_VS_MH_TAB_INDEX=8\n')).toEqual({ tabIndex: 8, tableSize: 251, source: null, mh: 'y' });
  });

  it('no IPVS in the config: kernel default index, mh "n"', () => {
    expect(parseKernelMhConfig('# CONFIG_IP_VS is not set\n')).toEqual({ tabIndex: 12, tableSize: 4093, source: null, mh: 'n' });
  });

  it('refuses an index outside 8..17', () => {
    expect(() => parseKernelMhConfig('CONFIG_IP_VS_MH_TAB_INDEX=18\n')).toThrow(InvalidTabIndexError);
    expect(() => parseKernelMhConfig('CONFIG_IP_VS_MH_TAB_INDEX=x\n')).toThrow(InvalidTabIndexError);
  });
});

describe('readKernelMhConfig', () => {
  it('tries paths in order, reads plain and gzipped configs, falls back to defaults', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'maglev-config-'));
    try {
      const plain = join(dir, 'config-test');
      const gz = join(dir, 'config.gz');
      await writeFile(plain, 'CONFIG_IP_VS_MH=m\nCONFIG_IP_VS_MH_TAB_INDEX=14\n');
      await writeFile(gz, gzipSync(Buffer.from('CONFIG_IP_VS_MH=y\nCONFIG_IP_VS_MH_TAB_INDEX=9\n')));
      const missing = join(dir, 'missing');
      expect(await readKernelMhConfig({ paths: [missing, plain, gz] })).toEqual({ tabIndex: 14, tableSize: 16381, source: plain, mh: 'm' });
      expect(await readKernelMhConfig({ paths: [missing, gz] })).toEqual({ tabIndex: 9, tableSize: 509, source: gz, mh: 'y' });
      expect(await readKernelMhConfig({ paths: [missing] })).toEqual({ tabIndex: 12, tableSize: 4093, source: null, mh: null });
      expect(await readKernelMhConfig({ release: 'no-such-release', paths: undefined }).then((c) => c.tabIndex)).toBeGreaterThanOrEqual(8);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  // The Debian 6.1 kernel the lab boots (scripts/setup.sh installs linux-image-amd64), whatever
  // its package revision: Debian updates it.
  const release = existsSync('/boot')
    ? readdirSync('/boot')
        .map((f) => /^config-(6\.1\.0-\d+-amd64)$/.exec(f)?.[1])
        .filter((r): r is string => r !== undefined)
        .sort((a, b) => Number(a.split('-')[1]) - Number(b.split('-')[1]))
        .pop()
    : undefined;
  if (release === undefined && process.env.CI !== 'true') process.stderr.write('SKIPPED: no Debian 6.1 kernel config in /boot (scripts/setup.sh installs linux-image-amd64)\n');
  (release !== undefined || process.env.CI === 'true' ? it : it.skip)('reads Debian 6.1 by release: TAB_INDEX 12, M 4093, mh module', async () => {
    expect(release).toBeDefined();
    expect(await readKernelMhConfig({ release: release! })).toEqual({ tabIndex: 12, tableSize: 4093, source: `/boot/config-${release}`, mh: 'm' });
  });
});

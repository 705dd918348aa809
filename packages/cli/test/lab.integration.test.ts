// `balanced lab up|down` with a test-made cache folder (the shared .lab cache is never
// touched): up extracts the kernel and builds the initramfs through testkit, down removes
// exactly those files and nothing else.
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { json, runBalanced } from './run-cli.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'balanced-cli-lab-'));
  await writeFile(join(dir, 'keep-me.txt'), 'not the lab\'s');
});

afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('lab up / lab down', () => {
  it('prepares the lab in the cache folder, then removes only what it made', async () => {
    const up = await runBalanced(['lab', 'up', '--cache-dir', dir, '--json'], { timeoutMs: 300_000 });
    expect(up.code).toBe(0);
    const made = json<{ kernel: string; vmlinux: string; initramfs: string; boot: unknown }>(up);
    expect(made.vmlinux).toBe(join(dir, `vmlinux-${made.kernel}`));
    expect(made.initramfs).toMatch(new RegExp(`^${dir}/initramfs-${made.kernel.replace(/\./g, '\\.')}-.+\\.cpio\\.gz$`));
    expect(made.boot).toBeNull();
    expect((await readdir(dir)).sort()).toEqual([made.initramfs.slice(dir.length + 1), 'keep-me.txt', `vmlinux-${made.kernel}`].sort());

    const again = await runBalanced(['lab', 'up', '--cache-dir', dir, '--json'], { timeoutMs: 300_000 });
    expect(json(again)).toEqual(made);

    const down = await runBalanced(['lab', 'down', '--cache-dir', dir, '--json']);
    expect(down.code).toBe(0);
    expect(json<{ removed: string[] }>(down).removed).toEqual([made.initramfs.slice(dir.length + 1), `vmlinux-${made.kernel}`].sort());
    expect(await readdir(dir)).toEqual(['keep-me.txt']);
    const nothing = await runBalanced(['lab', 'down', '--cache-dir', dir]);
    expect(nothing.stdout).toBe(`nothing to remove in ${dir}\n`);
  }, 600_000);
});

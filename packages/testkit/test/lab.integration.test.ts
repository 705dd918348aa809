import { beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findRepoRoot, GUEST_EXCHANGE_DIR, LabBootError, runInVm, type RunInVmResult } from '../src/index.js';

// One real boot of the lab VM (QEMU TCG, Debian kernel) carries most checks; a second boot
// checks argv quoting. Together ~10-20 s.
describe('lab VM', () => {
  const repo = findRepoRoot();
  let exchange = '';
  let result: RunInVmResult;

  beforeAll(async () => {
    exchange = await mkdtemp(join(tmpdir(), 'testkit-lab-it-'));
    try {
      result = await runInVm({
        script: [
          'set -u',
          'grep -q \'"name": "@balanced/testkit"\' packages/testkit/package.json && echo CHECK_REPO_READABLE',
          'test -e /proc/net/ip_vs && echo CHECK_IPVS_PRESENT',
          'echo "$(pwd)" > "$BALANCED_LAB_EXCHANGE/cwd.txt"',
          'echo "from guest $MY_VAR" > "$BALANCED_LAB_EXCHANGE/hello.txt"',
          'echo guest-wrote-repo > .lab/it-repo-write.txt',
          'exit 3',
        ].join('\n'),
        env: { MY_VAR: 'with spaces & $symbols' },
        exchangeDir: exchange,
        timeoutMs: 120_000,
      });
    } finally {
      // the exchange folder is read by the tests below and removed in the last one
    }
  }, 300_000);

  it('returns the command exit status (3), not a throw', () => {
    expect(result.exitCode).toBe(3);
    expect(result.durationMs).toBeGreaterThan(0);
  });

  it('lets the guest read the repository, with cwd = repository root', async () => {
    expect(result.output).toContain('CHECK_REPO_READABLE');
    expect((await readFile(join(exchange, 'cwd.txt'), 'utf8')).trim()).toBe(repo);
  });

  it('has IPVS loaded after boot', () => {
    expect(result.output).toContain('CHECK_IPVS_PRESENT');
  });

  it('shows files written to the exchange folder and the repository on the host', async () => {
    expect(await readFile(join(exchange, 'hello.txt'), 'utf8')).toBe('from guest with spaces & $symbols\n');
    const repoFile = join(repo, '.lab', 'it-repo-write.txt');
    expect(await readFile(repoFile, 'utf8')).toBe('guest-wrote-repo\n');
    await rm(repoFile, { force: true });
    await rm(exchange, { recursive: true, force: true });
  });

  it('passes argv words through untouched and streams output', async () => {
    const streamed: string[] = [];
    const r = await runInVm({
      command: ['/usr/bin/printf', 'ARGS[%s]', "it's", 'a  b', '$HOME', ''],
      timeoutMs: 120_000,
      onOutput: (t) => streamed.push(t),
    });
    expect(r.exitCode).toBe(0);
    expect(r.output).toContain("ARGS[it's]ARGS[a  b]ARGS[$HOME]ARGS[]");
    expect(streamed.join('')).toBe(r.output);
    expect(GUEST_EXCHANGE_DIR).toBe('/run/lab-exchange');
  }, 300_000);

  it('retries a boot without RUN_EXIT once, then throws LabBootError with the console tail', async () => {
    const error = await runInVm({ command: ['true'], timeoutMs: 10_000, qemu: '/bin/false' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LabBootError);
    expect((error as LabBootError).attempts).toBe(2);
    expect((error as LabBootError).message).toMatch(/without RUN_EXIT/);
  });
});

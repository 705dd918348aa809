// `balanced lab demo` without booting the VM: the command it runs is the root package.json's
// "demo" job; the report comes back from the VM's exchange folder; exit codes 0 / 1 / 2; usage
// errors before any boot. lab-demo.integration.test.ts runs the real demo in the lab VM.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { GUEST_EXCHANGE_DIR, findRepoRoot, type RunInVmOptions } from '@balanced/testkit';
import { DEMO_PROGRAM, demoRun, runLabDemo } from '../src/actions/lab-demo.js';
import { DEMO_MEMORY_MB, DEMO_TIMEOUT_SECONDS } from '../src/commands/lab.js';
import { EXIT_FAILURE, EXIT_USAGE, type CliError } from '../src/errors.js';
import type { CliIo } from '../src/io.js';
import { runBalanced } from './run-cli.js';

const repo = findRepoRoot();
const host = { repo, execPath: '/usr/bin/node', cwd: '/home/me', env: { BALANCED_DEMO_X: '1', BALANCED_LAB_TIMEOUT_MS: '5', PATH: '/bin' }, colour: false };

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'balanced-cli-demo-'));
});
afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('the command lab demo runs', () => {
  it('is the "demo" job of the root package.json: the same program, flags, lab timeout and guest RAM', async () => {
    const script = (JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.demo ?? '';
    expect(script).toContain(`lab.js node ${DEMO_PROGRAM}`);
    expect(script).toContain(`BALANCED_LAB_TIMEOUT_MS:-${DEMO_TIMEOUT_SECONDS * 1000}}`);
    expect(script).toContain(`BALANCED_LAB_MEMORY_MB:-${DEMO_MEMORY_MB}}`);
    expect(DEMO_MEMORY_MB).toBeGreaterThan(1024); // more than the lab's default
    expect(demoRun({ timeout: DEMO_TIMEOUT_SECONDS }, host).vm).toEqual({
      command: ['/usr/bin/node', join(repo, DEMO_PROGRAM)],
      cwd: repo,
      env: { BALANCED_DEMO_X: '1' }, // BALANCED_* but the lab's own, as testkit's lab CLI forwards them
      timeoutMs: 1_500_000,
      memoryMb: DEMO_MEMORY_MB,
    });
  });

  it('--report: the demo writes to the exchange folder; the host path is resolved from the working directory', () => {
    const run = demoRun({ timeout: 60, report: 'out/report.html' }, host);
    expect(run.vm.command).toEqual(['/usr/bin/node', join(repo, DEMO_PROGRAM), '--report', `${GUEST_EXCHANGE_DIR}/report.html`]);
    expect(run.report).toBe('/home/me/out/report.html');
    expect(run.vm.timeoutMs).toBe(60_000);
    expect(() => demoRun({ timeout: 60, report: ' ' }, host)).toThrow(/--report needs a file name/);
  });
});

describe('runLabDemo with a stand-in for the VM', () => {
  const capture = () => {
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIo = { out: (t) => void out.push(t), err: (t) => void err.push(t), errIsTty: false, env: {} };
    return { io, out, err };
  };
  /** Writes what the demo would write in the exchange folder and prints its screens. */
  const vm = (exitCode: number, report: string | undefined, seen: RunInVmOptions[] = []) => async (options: RunInVmOptions) => {
    seen.push(options);
    options.onOutput?.('balanced demo — screen 1\n');
    if (report !== undefined) await writeFile(join(options.exchangeDir ?? '/nonexistent', 'report.html'), report);
    options.onOutput?.('all checks held\n');
    return { exitCode, output: '', durationMs: 1, attempts: 1 };
  };

  it('streams the screens, copies the report to the host path, exit 0', async () => {
    const c = capture();
    const seen: RunInVmOptions[] = [];
    const file = join(dir, 'report.html');
    await runLabDemo(c.io, { timeout: 60, report: file }, vm(0, '<html>shares</html>', seen));
    expect(c.out.join('')).toBe('balanced demo — screen 1\nall checks held\n');
    expect(await readFile(file, 'utf8')).toBe('<html>shares</html>');
    expect(c.err.join('')).toContain(`report: ${file}`);
    const asked = seen[0];
    expect(asked !== undefined && 'command' in asked ? asked.command : asked).toEqual([process.execPath, join(repo, DEMO_PROGRAM), '--report', `${GUEST_EXCHANGE_DIR}/report.html`]);
    expect(asked?.memoryMb).toBe(DEMO_MEMORY_MB);
  });

  it('a failed check exits 1, and the report of the failed run is still copied', async () => {
    const c = capture();
    const file = join(dir, 'failed.html');
    const error = (await runLabDemo(c.io, { timeout: 60, report: file }, vm(1, '<html>failed</html>')).catch((e: unknown) => e)) as CliError;
    expect(error.exitCode).toBe(EXIT_FAILURE);
    expect(await readFile(file, 'utf8')).toBe('<html>failed</html>');
    expect(c.err.join('')).toContain('the demo exited 1');
  });

  it('a run that wrote no report when asked fails; the VM is never started for a report folder that does not exist', async () => {
    const missing = (await runLabDemo(capture().io, { timeout: 60, report: join(dir, 'none.html') }, vm(0, undefined)).catch((e: unknown) => e)) as CliError;
    expect([missing.exitCode, missing.message]).toEqual([EXIT_FAILURE, 'the demo wrote no report']);
    const seen: RunInVmOptions[] = [];
    const nowhere = (await runLabDemo(capture().io, { timeout: 60, report: join(dir, 'no-such-dir', 'r.html') }, vm(0, 'x', seen)).catch((e: unknown) => e)) as CliError;
    expect(nowhere.exitCode).toBe(EXIT_FAILURE);
    expect(nowhere.message).toMatch(/cannot write the report in .*no-such-dir/);
    expect(seen).toEqual([]);
  });
});

it('on a terminal, a progress line while the VM boots, cleared before the first screen is written', async () => {
  const log: string[] = [];
  const io: CliIo = { out: (t) => void log.push(`out:${t}`), err: (t) => void log.push(`err:${t}`), errIsTty: true, env: {} };
  await runLabDemo(io, { timeout: 60 }, async (options) => {
    await new Promise((r) => setTimeout(r, 1_400)); // the boot: longer than the progress delay (1 s)
    options.onOutput?.('screen 1\n');
    options.onOutput?.('screen 2\n');
    return { exitCode: 0, output: '', durationMs: 1, attempts: 1 };
  });
  const first = log.findIndex((l) => l.startsWith('out:'));
  expect(log.slice(0, first).some((l) => l.includes('booting the lab VM'))).toBe(true);
  expect(log[first - 1]).toBe('err:\r\x1b[K');
  // (both screens arrived while the line was still drawn: held, then written in order)
  expect(log.slice(first)).toEqual(['out:screen 1\nscreen 2\n', expect.stringMatching(/^err:lab: the demo exited 0/)]);
});

describe('the balanced binary', () => {
  it('lab demo --help, exit 0; usage errors exit 2 before any boot', async () => {
    const [help, ...usage] = await Promise.all([
      runBalanced(['lab', 'demo', '--help']),
      runBalanced(['lab', 'demo', 'now']),
      runBalanced(['lab', 'demo', '--report']),
      runBalanced(['lab', 'demo', '--report', '']),
      runBalanced(['lab', 'demo', '--timeout', 'soon']),
      runBalanced(['lab', 'demo', '--bogus']),
    ]);
    expect(help?.code).toBe(0);
    expect(help?.stdout).toMatch(/Usage: balanced lab demo \[options\][\s\S]*npm run demo[\s\S]*--report <file>[\s\S]*--timeout <seconds>/);
    expect(usage.map((r) => r.code)).toEqual(Array(5).fill(EXIT_USAGE));
    expect(usage.map((r) => r.stderr)).toEqual([
      expect.stringMatching(/too many arguments for 'demo'/),
      expect.stringMatching(/option '--report <file>' argument missing/),
      expect.stringMatching(/--report needs a file name/),
      expect.stringMatching(/must be a positive number/),
      expect.stringMatching(/unknown option '--bogus'/),
    ]);
    const lab = await runBalanced(['lab', '--help']);
    expect(lab.stdout).toMatch(/\bdemo\b/);
  }, 120_000);
});

// `balanced lab demo --report FILE` for real: the built binary boots the lab VM (QEMU TCG,
// Debian's kernel) and runs `npm run demo`'s program there from the real binaries (test API
// server, two directors with BIRD behind a BGP router, a node with its pods, the
// cgroup-resolver, the allocator). It must exit 0 with every check held, and bring the report
// back from the VM. This also guards the demo itself in CI (`npm test` runs the integration
// project): it once broke unnoticed. ~2-4 min (more when the machine is busy).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runBalanced, type CliRun } from './run-cli.js';

/** The lab's own limit for the run (seconds), and the test's: above it, so the lab's error shows. */
const LAB_TIMEOUT_S = 1200;
const TEST_TIMEOUT_MS = (LAB_TIMEOUT_S + 300) * 1000;

let dir: string;
let run: CliRun;
let report: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'balanced-cli-demo-it-'));
  report = join(dir, 'report.html');
  run = await runBalanced(['lab', 'demo', '--report', report, '--timeout', String(LAB_TIMEOUT_S)], { timeoutMs: TEST_TIMEOUT_MS - 60_000 });
}, TEST_TIMEOUT_MS);

afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

/** The end of the run's output, for a failure message. */
const tail = (r: CliRun): string => `exit ${r.code}\n--- stdout (end)\n${r.stdout.slice(-6000)}\n--- stderr (end)\n${r.stderr.slice(-3000)}`;

describe('balanced lab demo, in the lab VM', () => {
  it('exits 0 and says every check held', () => {
    if (run.code !== 0 || !/all \d+ checks held/.test(run.stdout)) throw new Error(`the demo did not pass: ${tail(run)}`);
    const held = Number(/ all (\d+) checks held, \d+ s/.exec(run.stdout)?.[1]);
    // The demo's six screens make a few dozen checks; far fewer means screens were skipped.
    expect(held).toBeGreaterThanOrEqual(20);
    expect(run.stdout).not.toMatch(/DEMO FAILED|✘/);
    expect(run.stderr).toMatch(/lab: the demo exited 0; boot\+run [\d.]+ s/);
  });

  it('shows every screen of the demo, in order', () => {
    expect(run.stdout).toMatch(/^balanced demo — Linux \S+ in the lab VM/m);
    const screens = [...run.stdout.matchAll(/^ (\d+)\/(\d+) {2}\S/gm)].map((m) => `${m[1]}/${m[2]}`);
    const total = Number(screens[0]?.split('/')[1]);
    expect(total).toBeGreaterThanOrEqual(6);
    expect(screens).toEqual(Array.from({ length: total }, (_, i) => `${i + 1}/${total}`));
  });

  it('brings the report back from the VM: the same checks, all held', async () => {
    expect(run.stderr).toContain(`report: ${report}`);
    const page = await readFile(report, 'utf8');
    expect(page).toContain('<h1>balanced demo: every check held</h1>');
    const held = Number(/ all (\d+) checks held/.exec(run.stdout)?.[1]);
    expect(page.match(/<tr class="ok">/g)?.length).toBe(held);
    expect(page).not.toContain('<tr class="failed">');
    const vip = /got VIP <b>([\d.]+)<\/b>/.exec(page)?.[1];
    expect(vip).toBeDefined();
    expect(run.stdout).toContain(vip);
  });
});

import { constants, existsSync } from 'node:fs';
import { access, copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { GUEST_EXCHANGE_DIR, LabBootError, findRepoRoot, forwardedEnv, runInVm, type RunInVmOptions, type RunInVmResult } from '@balanced/testkit';
import { DEMO_MEMORY_MB, type DemoOptions } from '../commands/lab.js';
import { CliError, ReportedFailure, UsageError, messageOf } from '../errors.js';
import type { CliIo } from '../io.js';
import { withProgress } from '../progress.js';

/** The demo program, as the root package.json's "demo" script runs it in the lab VM. */
export const DEMO_PROGRAM = 'example/demo.mjs';
/** Where the demo writes the report inside the VM: the exchange folder, shared with a host folder of ours. */
const REPORT_NAME = 'report.html';

/** What `lab demo` runs: the guest command, and where the report goes on this host. */
export interface DemoRun {
  readonly vm: { readonly command: readonly string[]; readonly cwd: string; readonly env: Readonly<Record<string, string>>; readonly timeoutMs: number; readonly memoryMb: number };
  /** Absolute host path the report is copied to after the run. */
  readonly report?: string;
}

export interface DemoHost {
  readonly repo: string;
  /** This node, which the VM sees through its read-only share of the host's root. */
  readonly execPath: string;
  /** For a relative --report. */
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** stdout is a terminal: the demo may colour its screens. */
  readonly colour: boolean;
}

/**
 * The command `npm run demo` runs under the lab (`node example/demo.mjs [--report FILE]`, cwd
 * the repository, BALANCED_* and FORCE_COLOR forwarded as testkit's lab CLI does). The report
 * is written to the VM's exchange folder and copied to FILE afterwards, so FILE may be anywhere
 * on the host (the VM writes only the repository and the exchange folder).
 */
export function demoRun(o: DemoOptions, host: DemoHost): DemoRun {
  if (o.report !== undefined && o.report.trim() === '') throw new UsageError('--report needs a file name');
  return {
    vm: {
      command: [host.execPath, join(host.repo, DEMO_PROGRAM), ...(o.report !== undefined ? ['--report', `${GUEST_EXCHANGE_DIR}/${REPORT_NAME}`] : [])],
      cwd: host.repo,
      env: forwardedEnv({ ...host.env }, host.colour),
      timeoutMs: Math.round(o.timeout * 1000),
      memoryMb: DEMO_MEMORY_MB,
    },
    ...(o.report !== undefined ? { report: resolve(host.cwd, o.report) } : {}),
  };
}

export type VmRunner = (options: RunInVmOptions) => Promise<RunInVmResult>;

/** Boots the lab VM, streams the demo's screens to stdout, copies the report; exit 0 only when the demo's checks all held. */
export async function runLabDemo(io: CliIo, o: DemoOptions, runner: VmRunner = runInVm): Promise<void> {
  let repo: string;
  try {
    repo = findRepoRoot();
  } catch (e) {
    throw new CliError(`lab demo runs from a checkout of the repository: ${messageOf(e)}`);
  }
  const plan = demoRun(o, { repo, execPath: process.execPath, cwd: process.cwd(), env: io.env, colour: process.stdout.isTTY === true });
  if (!existsSync(join(repo, DEMO_PROGRAM))) throw new CliError(`${join(repo, DEMO_PROGRAM)} is missing`);
  if (plan.report !== undefined) {
    // Before a run of several minutes, not after it.
    await access(dirname(plan.report), constants.W_OK).catch((e: unknown) => {
      throw new CliError(`cannot write the report in ${dirname(plan.report as string)}: ${messageOf(e)}`);
    });
  }
  const exchangeDir = await mkdtemp(join(tmpdir(), 'balanced-demo-'));
  const started = Date.now();
  try {
    const result = await streamed(io, (onOutput) => runner({ ...plan.vm, exchangeDir, onOutput }));
    io.err(`lab: the demo exited ${result.exitCode}; boot+run ${((Date.now() - started) / 1000).toFixed(1)} s (${result.attempts} boot${result.attempts > 1 ? 's' : ''})\n`);
    if (plan.report !== undefined) {
      const written = join(exchangeDir, REPORT_NAME);
      if (existsSync(written)) {
        await copyFile(written, plan.report);
        io.err(`report: ${plan.report}\n`);
      } else if (result.exitCode === 0) {
        throw new CliError('the demo wrote no report');
      }
    }
    if (result.exitCode !== 0) throw new ReportedFailure(); // the demo said what failed
  } catch (e) {
    if (e instanceof CliError) throw e;
    if (e instanceof LabBootError) throw new CliError(`lab VM boot failure: ${e.message}`);
    throw new CliError(`lab demo: ${messageOf(e)}`);
  } finally {
    await rm(exchangeDir, { recursive: true, force: true });
  }
}

/**
 * Runs the VM with its console going to stdout; until the first output (the boot), a
 * progress line on a terminal's stderr. Output that arrives while the line is drawn is held
 * and written once it is cleared.
 */
async function streamed(io: CliIo, start: (onOutput: (text: string) => void) => Promise<RunInVmResult>): Promise<RunInVmResult> {
  let booting = true;
  let held = '';
  let firstOutput: () => void = () => undefined;
  const first = new Promise<void>((r) => (firstOutput = r));
  const running = start((text) => {
    if (!booting) {
      io.out(text);
      return;
    }
    held += text;
    firstOutput();
  });
  const ended = running.then(
    () => undefined,
    () => undefined,
  );
  await withProgress(io, 'booting the lab VM', () => Promise.race([first, ended]));
  booting = false;
  if (held !== '') io.out(held);
  return running;
}

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { findRepoRoot } from '../repo-root.js';
import { bootOnce, type BootAttempt } from './boot.js';
import { consoleTail } from './console.js';
import { LabBootError } from './errors.js';
import { GUEST_EXCHANGE_DIR, IN_VM_ENV, REPO_PATH_FILE, RUN_SCRIPT_NAME } from './guest.js';
import { ensureInitramfs } from './initramfs.js';
import { ensureVmlinux, findKernelVersion } from './kernel.js';
import { buildQemuArgs } from './qemu-args.js';
import { renderRunScript, type GuestCommand } from './run-script.js';

export interface RunInVmCommonOptions {
  /** Extra environment for the guest command (PATH, HOME=/tmp and BALANCED_LAB_* are preset). */
  readonly env?: Readonly<Record<string, string>>;
  /** Hard limit per boot attempt; QEMU is SIGKILLed by pid when it passes. */
  readonly timeoutMs: number;
  /** Guest RAM, default 1024. */
  readonly memoryMb?: number;
  /** Guest vCPUs, default 2. */
  readonly cpus?: number;
  /** Guest working directory, default the repository root (shared writable at the same path). */
  readonly cwd?: string;
  /**
   * Host folder shared read-write at {@link GUEST_EXCHANGE_DIR}. Default: a fresh temporary
   * folder that is removed after the run.
   */
  readonly exchangeDir?: string;
  /** Receives the serial console (CR stripped) as it arrives. */
  readonly onOutput?: (text: string) => void;
  /** Extra kernel command-line words (e.g. `lab.trace` for init timings, `lab.9pcache=none`). */
  readonly kernelAppend?: string;
  /** QEMU binary, default `qemu-system-x86_64` (tests substitute a fake). */
  readonly qemu?: string;
}

export type RunInVmOptions = RunInVmCommonOptions & GuestCommand;

export interface RunInVmResult {
  /** The guest command's own exit status. */
  readonly exitCode: number;
  /** Serial console of the successful boot (CR stripped). */
  readonly output: string;
  /** Wall time of the successful boot, QEMU start to exit. */
  readonly durationMs: number;
  /** 1, or 2 when the first boot failed and was retried. */
  readonly attempts: number;
}

const MAX_ATTEMPTS = 2;

/** Environment every guest command gets. */
export function defaultGuestEnv(): Record<string, string> {
  return {
    PATH: [dirname(process.execPath), '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'].join(':'),
    HOME: '/tmp',
    LANG: 'C.UTF-8',
    [IN_VM_ENV]: '1',
    BALANCED_LAB_EXCHANGE: GUEST_EXCHANGE_DIR,
  };
}

function guestCommand(options: RunInVmOptions): GuestCommand {
  return 'command' in options ? { command: options.command } : { script: options.script };
}

/**
 * Boots the Debian kernel under QEMU TCG, runs the command inside (host / read-only, the
 * repository writable at its own path, cwd = repository root), and returns its exit status.
 * A boot that never reports RUN_EXIT is retried once, then {@link LabBootError} is thrown.
 */
export async function runInVm(options: RunInVmOptions): Promise<RunInVmResult> {
  const repo = findRepoRoot();
  const version = findKernelVersion();
  const [kernel, initrd] = await Promise.all([ensureVmlinux(version), ensureInitramfs(version)]);
  const exchangeDir = options.exchangeDir ?? (await mkdtemp(join(tmpdir(), 'balanced-lab-')));
  try {
    const script = renderRunScript({
      cwd: options.cwd ?? repo,
      env: { ...defaultGuestEnv(), ...options.env },
      what: guestCommand(options),
    });
    await writeFile(join(exchangeDir, RUN_SCRIPT_NAME), script, { mode: 0o755 });
    await writeFile(join(exchangeDir, REPO_PATH_FILE), repo);
    const args = buildQemuArgs({
      kernel,
      initrd,
      repoDir: repo,
      exchangeDir,
      memoryMb: options.memoryMb ?? 1024,
      cpus: options.cpus ?? 2,
      ...(options.kernelAppend !== undefined ? { extraAppend: options.kernelAppend } : {}),
    });
    let last: BootAttempt | undefined;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      last = await bootOnce(options.qemu ?? 'qemu-system-x86_64', args, options.timeoutMs, options.onOutput);
      if (last.exitCode !== undefined) {
        return { exitCode: last.exitCode, output: last.output, durationMs: last.durationMs, attempts: attempt };
      }
      if (attempt < MAX_ATTEMPTS) {
        process.stderr.write(`\n!!! lab VM boot attempt ${attempt} failed: ${last.failure ?? 'unknown'}; retrying once\n`);
      }
    }
    const tail = consoleTail(`${last?.output ?? ''}\n${last?.qemuStderr ?? ''}`);
    throw new LabBootError(`lab VM failed ${MAX_ATTEMPTS} times: ${last?.failure ?? 'unknown'}`, tail, MAX_ATTEMPTS);
  } finally {
    if (options.exchangeDir === undefined) await rm(exchangeDir, { recursive: true, force: true });
  }
}

import { relative, isAbsolute } from 'node:path';

export interface LabInvocation {
  readonly command: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
}

export const LAB_USAGE = `usage: lab <program> [args...]
  lab jest <jest args>    node --experimental-vm-modules node_modules/jest/bin/jest.js inside the VM
  lab node <file> [args]  node inside the VM
  lab <program> [args]    anything else (e.g. lab sh -c '...')
env: BALANCED_LAB_TIMEOUT_MS (default 600000), BALANCED_LAB_MEMORY_MB, BALANCED_LAB_CPUS, BALANCED_LAB_KERNEL, BALANCED_LAB_TRACE=1 (boot timings),
     BALANCED_LAB_JEST_CACHE_DIR (guest jest cache, default /tmp/jest-cache = fresh each boot;
     a folder in the repository, e.g. .lab/jest-cache-vm, persists across boots)`;

const WORKER_FLAGS = /^(-i|--runInBand|-w|--maxWorkers)(=.*)?$/;

/** Guest cwd: the host cwd when it lies inside the repository (shared at the same path), else the repository root. */
export function guestCwd(hostCwd: string, repo: string): string {
  const rel = relative(repo, hostCwd);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel)) ? hostCwd : repo;
}

/** Host variables forwarded into the guest: BALANCED_* (except the lab's own), CI, FC_SEED and FORCE_COLOR. */
export function forwardedEnv(hostEnv: NodeJS.ProcessEnv, colour: boolean): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(hostEnv)) {
    if (v !== undefined && k.startsWith('BALANCED_') && !k.startsWith('BALANCED_LAB_')) env[k] = v;
  }
  // CI=true makes a test fail where it would skip elsewhere, and fixes fast-check's seed
  // (jest.fast-check.js); FC_SEED replays one. Both hold in the guest as on the host.
  for (const k of ['CI', 'FC_SEED']) if (hostEnv[k] !== undefined) env[k] = hostEnv[k] as string;
  if (hostEnv.FORCE_COLOR !== undefined) env.FORCE_COLOR = hostEnv.FORCE_COLOR;
  else if (colour) env.FORCE_COLOR = '1';
  return env;
}

/**
 * Translates `lab <program> [args...]` into the guest command. `nodePath` is the host's
 * node binary (visible in the guest through the read-only root share).
 */
export function labInvocation(
  argv: readonly string[],
  nodePath: string,
  cwd: string,
  jestCacheDir = '/tmp/jest-cache',
): LabInvocation | undefined {
  const [program, ...args] = argv;
  if (program === undefined || program === '-h' || program === '--help') return undefined;
  if (program === 'jest') {
    const workers = args.some((a) => WORKER_FLAGS.test(a)) ? [] : ['--runInBand'];
    return {
      command: [nodePath, '--experimental-vm-modules', 'node_modules/jest/bin/jest.js', '--ci', ...workers, ...args],
      env: { JEST_CACHE_DIR: jestCacheDir, CI: 'true' },
      cwd,
    };
  }
  if (program === 'node') return { command: [nodePath, ...args], env: {}, cwd };
  return { command: [program, ...args], env: {}, cwd };
}

import { spawn, type ChildProcess } from 'node:child_process';
import { cgroupNetnsArgv } from '../traffic/node-child.js';
import { run, type ExecResult } from '../exec.js';

export { cgroupNetnsArgv };

/**
 * Starts `file args…` with its process in `cgroup` BEFORE it enters `netns` (nsenter --net:
 * /sys is not remounted). The pid is the program's own; the caller stops it by that pid.
 */
export function spawnInCgroupNetns(cgroup: string, netns: string, file: string, args: readonly string[] = []): ChildProcess {
  const [sh, ...rest] = cgroupNetnsArgv(cgroup, netns, [file, ...args]);
  return spawn(sh!, rest, { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Runs `file args…` in `cgroup` + `netns` to completion. */
export function execInCgroupNetns(
  cgroup: string,
  netns: string,
  file: string,
  args: readonly string[] = [],
  options: { input?: string; timeoutMs?: number } = {},
): Promise<ExecResult> {
  const [sh, ...rest] = cgroupNetnsArgv(cgroup, netns, [file, ...args]);
  return run(sh!, rest, options);
}

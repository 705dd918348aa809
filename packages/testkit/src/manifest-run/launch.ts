// Launches a planned pod (effectful, root): prepares its volumes on a tmpfs of its own (emptyDir
// folders, configMap/secret/ServiceAccount files; hostPaths checked or created by their type),
// runs the init containers one after the other (each must exit 0), starts the containers
// (container-command.ts), waits for their readiness probes, and stops them as the kubelet does:
// preStop hooks, SIGTERM, SIGKILL after the grace period, then removes everything it made.

import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { run, runChecked } from '../exec.js';
import { containerArgv, execInContainerArgv, type ContainerPaths } from './container-command.js';
import { probeOnce } from './probe.js';
import { ManifestRunError, type ContainerPlan, type PodLaunchPlan, type VolumePlan } from './types.js';

export interface LaunchPodOptions {
  readonly plan: PodLaunchPlan;
  /** nsfs path of the pod's network namespace (the node's with hostNetwork), e.g. /run/netns/x. */
  readonly netns: string;
  /** Folder under which the pod's own folder (a tmpfs) is made. */
  readonly workDir: string;
  /** At most this long per container between SIGTERM and SIGKILL (the manifest's grace period otherwise). */
  readonly maxGraceMs?: number;
  /** How long an init container may run. Default 120 s. */
  readonly initTimeoutMs?: number;
  /** At least this probe timeout (the manifest's, default 1 s, is meant for a real node, not an emulated one). */
  readonly minProbeTimeoutSeconds?: number;
  /** At most this long between two readiness probes of a container (the manifest's periodSeconds otherwise, default 10 s). */
  readonly maxProbePeriodMs?: number;
}

export interface RunningContainer {
  readonly name: string;
  readonly plan: ContainerPlan;
  /** Host pid of the container's process. */
  readonly pid: number;
  /** Set once the process is gone: exit code, or 128 + signal. */
  readonly exitCode: number | undefined;
  readonly exited: Promise<number>;
  /** The last 64 KiB of its stdout and stderr. */
  log(): string;
}

export interface RunningPod {
  readonly plan: PodLaunchPlan;
  readonly containers: readonly RunningContainer[];
  /** Each init container's output (they ran to completion). */
  readonly initLogs: ReadonlyMap<string, string>;
  /** Until every container's readiness probe passes; throws with the logs when one exits first or on timeout. */
  ready(timeoutMs?: number): Promise<void>;
  /** Stops the containers (preStop, SIGTERM, SIGKILL) and removes the pod's folder. Idempotent. */
  stop(): Promise<void>;
}

const LOG_LIMIT = 64 * 1024;
const SIGNALS: Record<string, number> = { SIGKILL: 9, SIGTERM: 15, SIGINT: 2, SIGHUP: 1, SIGABRT: 6, SIGSEGV: 11 };
const HOST_ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' };

class ContainerProcess implements RunningContainer {
  pid = 0;
  exitCode: number | undefined;
  readonly exited: Promise<number>;
  private output = '';

  constructor(
    readonly plan: ContainerPlan,
    readonly child: ChildProcess,
  ) {
    const append = (d: Buffer): void => {
      this.output = (this.output + d.toString('utf8')).slice(-LOG_LIMIT);
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitCode = code ?? 128 + (signal === null ? 0 : (SIGNALS[signal] ?? 0));
        resolve(this.exitCode);
      });
      child.once('error', (e) => {
        this.output += `\n${e.message}`;
        this.exitCode = 127;
        resolve(127);
      });
    });
  }

  get name(): string {
    return this.plan.name;
  }

  log(): string {
    return this.output;
  }
}

async function prepareHostPath(v: Extract<VolumePlan, { kind: 'hostPath' }>): Promise<void> {
  const info = await stat(v.path).catch(() => undefined);
  const fail = (what: string): never => {
    throw new ManifestRunError(`volume ${v.name}: hostPath ${v.path} (type ${v.type}): ${what}`);
  };
  switch (v.type) {
    case 'DirectoryOrCreate':
      if (info === undefined) await mkdir(v.path, { recursive: true, mode: 0o755 });
      else if (!info.isDirectory()) fail('exists and is not a directory');
      return;
    case 'Directory':
      if (info?.isDirectory() !== true) fail('no such directory on the node');
      return;
    case 'FileOrCreate':
      if (info === undefined) await writeFile(v.path, '', { mode: 0o644 }).catch((e: Error) => fail(e.message));
      else if (!info.isFile()) fail('exists and is not a file');
      return;
    case 'File':
      if (info?.isFile() !== true) fail('no such file on the node');
      return;
    case 'Socket':
      if (info?.isSocket() !== true) fail('no such socket on the node');
      return;
    case 'CharDevice':
      if (info?.isCharacterDevice() !== true) fail('no such character device on the node');
      return;
    case 'BlockDevice':
      if (info?.isBlockDevice() !== true) fail('no such block device on the node');
      return;
    case '':
      if (info === undefined) fail('does not exist (no type: nothing is created)');
  }
}

/** Makes each volume's host source; returns them by volume name. */
async function prepareVolumes(plan: PodLaunchPlan, podDir: string): Promise<Map<string, string>> {
  const sources = new Map<string, string>();
  for (const [i, v] of plan.volumes.entries()) {
    if (v.kind === 'hostPath') {
      await prepareHostPath(v);
      sources.set(v.name, v.path);
      continue;
    }
    const dir = join(podDir, 'volumes', `${i}`);
    await mkdir(dir, { recursive: true });
    if (v.kind === 'emptyDir') {
      await chmod(dir, 0o777); // as the kubelet makes them: any container user may write
    } else {
      for (const f of v.files) {
        const file = join(dir, f.path);
        if (!file.startsWith(`${dir}/`)) throw new ManifestRunError(`volume ${v.name}: file ${f.path} leaves its folder`);
        await mkdir(dirname(file), { recursive: true });
        await writeFile(file, f.content, { mode: f.mode });
        await chmod(file, f.mode);
      }
    }
    sources.set(v.name, dir);
  }
  return sources;
}

/** The container's process: the unshare parent's child with its own PID namespace, else the spawned process itself. */
async function containerPid(plan: PodLaunchPlan, child: ChildProcess, exited: () => boolean): Promise<number> {
  const pid = child.pid;
  if (pid === undefined) return 0;
  if (plan.hostPID) return pid;
  const deadline = Date.now() + 30_000;
  // nsenter execs unshare, which forks the namespace's init: wait for that child.
  while (Date.now() < deadline && !exited()) {
    const children = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
    const [first] = children.trim().split(/\s+/).filter((s) => /^\d+$/.test(s));
    const comm = await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '');
    if (first !== undefined && comm.trim() === 'unshare') return Number(first);
    await sleep(20);
  }
  return 0;
}

function startContainer(plan: PodLaunchPlan, c: ContainerPlan, paths: ContainerPaths): ContainerProcess {
  const [file, ...args] = containerArgv(plan, c, paths);
  const child = spawn(file!, args, { stdio: ['ignore', 'pipe', 'pipe'], env: HOST_ENV });
  return new ContainerProcess(c, child);
}

function failure(what: string, containers: readonly RunningContainer[]): Error {
  const logs = containers.map((c) => `--- ${c.name}${c.exitCode === undefined ? '' : ` (exited ${c.exitCode})`}:\n${c.log().trimEnd().split('\n').slice(-25).join('\n')}`);
  return new ManifestRunError(`${what}\n${logs.join('\n')}`);
}

/** Starts the pod: volumes, init containers to completion, then the containers (not waiting for readiness). */
export async function launchPod(options: LaunchPodOptions): Promise<RunningPod> {
  const { plan } = options;
  if (!/^[a-z0-9][a-z0-9.-]*$/.test(plan.podName)) throw new ManifestRunError(`pod name ${JSON.stringify(plan.podName)} is not a DNS name`);
  const podDir = join(options.workDir, plan.podName);
  await mkdir(podDir, { recursive: true });
  await runChecked('mount', ['-t', 'tmpfs', '-o', 'mode=0755', 'tmpfs', podDir]);
  const running: ContainerProcess[] = [];
  let stopped = false;
  const removeDir = async (): Promise<void> => {
    await run('umount', ['-R', podDir]);
    await rm(podDir, { recursive: true, force: true });
  };
  const stopContainer = async (c: ContainerProcess): Promise<void> => {
    if (c.exitCode !== undefined) return;
    const graceMs = Math.min(plan.terminationGracePeriodSeconds * 1000, options.maxGraceMs ?? Number.POSITIVE_INFINITY);
    const deadline = Date.now() + graceMs;
    if (c.plan.preStop !== undefined && c.pid > 0) {
      const [file, ...args] = execInContainerArgv(plan, c.plan, c.pid, c.plan.preStop);
      await run(file!, args, { timeoutMs: Math.max(1, graceMs) });
    }
    const signal = (sig: NodeJS.Signals): void => {
      for (const pid of [c.pid, c.child.pid]) {
        if (pid === undefined || pid <= 0) continue;
        try {
          process.kill(pid, sig);
        } catch {
          // already gone
        }
      }
    };
    // SIGTERM to the container's process (the unshare parent ignores it); SIGKILL to both.
    if (c.pid > 0) {
      try {
        process.kill(c.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    } else {
      signal('SIGKILL');
    }
    const left = Math.max(0, deadline - Date.now());
    const timer = setTimeout(() => signal('SIGKILL'), left);
    await c.exited;
    clearTimeout(timer);
  };
  const stopAll = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await Promise.all(running.map(stopContainer));
    await removeDir();
  };
  try {
    const sources = await prepareVolumes(plan, podDir);
    const hostsFile = join(podDir, 'hosts');
    const hostnameFile = join(podDir, 'hostname');
    await writeFile(hostsFile, `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n${plan.podIP}\t${plan.podName}\n`);
    await writeFile(hostnameFile, `${plan.hostNetwork ? plan.nodeName : plan.podName}\n`);
    const paths = (c: ContainerPlan, kind: 'init' | 'c'): ContainerPaths => ({
      netns: options.netns,
      stateDir: join(podDir, `${kind}-${c.name}`),
      volumeSources: sources,
      hostsFile,
      hostnameFile,
    });
    const initLogs = new Map<string, string>();
    for (const c of plan.initContainers) {
      const p = startContainer(plan, c, paths(c, 'init'));
      const timer = setTimeout(() => p.child.kill('SIGKILL'), options.initTimeoutMs ?? 120_000);
      const code = await p.exited;
      clearTimeout(timer);
      initLogs.set(c.name, p.log());
      if (code !== 0) throw failure(`${plan.workload}: init container ${c.name} exited ${code}`, [p]);
    }
    for (const c of plan.containers) running.push(startContainer(plan, c, paths(c, 'c')));
    await Promise.all(
      running.map(async (c) => {
        c.pid = await containerPid(plan, c.child, () => c.exitCode !== undefined);
      }),
    );
    const pod: RunningPod = {
      plan,
      containers: running,
      initLogs,
      ready: async (timeoutMs = 120_000) => {
        // Each container's readiness probe on its own schedule (initialDelaySeconds, then every
        // periodSeconds), as the kubelet runs them: every probe is a process start, which costs
        // under emulation.
        const since = Date.now();
        const deadline = since + timeoutMs;
        const pending = new Map(
          running.filter((c) => c.plan.readinessProbe !== undefined).map((c) => [c, since + c.plan.readinessProbe!.initialDelaySeconds * 1000] as const),
        );
        const lastProbe = new Map<string, string>();
        for (;;) {
          const gone = running.find((c) => c.exitCode !== undefined);
          if (gone !== undefined) throw failure(`${plan.workload}: container ${gone.name} exited ${gone.exitCode} before the pod was ready`, running);
          for (const [c, due] of [...pending]) {
            if (Date.now() < due) continue;
            const probe = c.plan.readinessProbe!;
            const result = await probeOnce(plan, c.plan, options.netns, c.pid, probe, options.minProbeTimeoutSeconds);
            if (result.ok) pending.delete(c);
            else {
              lastProbe.set(c.name, result.output);
              pending.set(c, Date.now() + Math.min(probe.periodSeconds * 1000, options.maxProbePeriodMs ?? Number.POSITIVE_INFINITY));
            }
          }
          if (pending.size === 0) return;
          if (Date.now() > deadline) {
            const why = [...pending.keys()].map((c) => `${c.name}: ${lastProbe.get(c.name) ?? '(no probe answer)'}`).join('; ');
            throw failure(`${plan.workload}: not ready after ${timeoutMs / 1000} s (readiness probe of ${why})`, running);
          }
          await sleep(200);
        }
      },
      stop: stopAll,
    };
    return pod;
  } catch (e) {
    await stopAll().catch(() => undefined);
    throw e;
  }
}

import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';

/**
 * argv that runs `command` with its process first moved into the cgroup v2 folder `cgroup`,
 * then in the network namespace `/run/netns/<netns>` (nsenter: /sys stays the host's).
 * Paths travel as positional parameters, never spliced into the shell text.
 */
export function cgroupNetnsArgv(cgroup: string, netns: string, command: readonly string[]): string[] {
  if (command.length === 0) throw new Error('cgroupNetnsArgv: empty command');
  if (netns.includes('/') || netns === '' || netns === '.' || netns === '..') throw new Error(`bad netns name ${JSON.stringify(netns)}`);
  return ['sh', '-c', 'cg=$1; ns=$2; shift 2; echo $$ > "$cg/cgroup.procs" && exec nsenter --net="/run/netns/$ns" -- "$@"', 'sh', cgroup, netns, ...command];
}

/**
 * A node program (an ESM script given with `-e`) running inside a network namespace that
 * talks in JSON lines: its stdout is one JSON object per line. Requests carry an `id` and
 * the reply with the same `id` settles them, so several may be in flight.
 */
export class NodeChild {
  readonly pid: number;
  private readonly lines: Interface;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly unsolicited: ((line: Record<string, unknown>) => void)[] = [];
  private readonly unclaimed: Record<string, unknown>[] = [];
  private stderr = '';
  private exitMessage: string | undefined;
  private readonly exited: Promise<void>;
  private nextId = 1;

  private constructor(private readonly child: ChildProcess, label: string) {
    if (child.pid === undefined) throw new Error(`${label}: could not start`);
    this.pid = child.pid;
    this.lines = createInterface({ input: child.stdout! });
    this.lines.on('line', (line) => this.onLine(line));
    child.stderr!.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString('utf8')).slice(-4000);
    });
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitMessage = `${label} exited (${code ?? signal}): ${this.stderr.trim()}`;
        for (const p of this.pending.values()) p.reject(new Error(this.exitMessage));
        this.pending.clear();
        resolve();
      });
    });
  }

  /**
   * Starts `node --input-type=module -e script arg` under `ip netns exec`, or, with
   * `options.cgroup` (a cgroup v2 folder), joins that cgroup first and then enters the
   * namespace with `nsenter --net` (which, unlike `ip netns exec`, does not remount /sys):
   * the order cgroup-BPF tests need. Either way the pid is node's own (both exec).
   */
  static start(netns: string, label: string, script: string, arg: unknown, options: { stdin: boolean; cgroup?: string }): NodeChild {
    const argv = [process.execPath, '--input-type=module', '-e', script, JSON.stringify(arg)];
    const [file, ...args] = options.cgroup === undefined ? ['ip', 'netns', 'exec', netns, ...argv] : cgroupNetnsArgv(options.cgroup, netns, argv);
    const child = spawn(file!, args, { stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    return new NodeChild(child, options.cgroup === undefined ? `${label} in ${netns}` : `${label} in ${netns} (cgroup ${options.cgroup})`);
  }

  /** Resolves with the first line the program prints that is not a reply (e.g. `{"ready":true}`). */
  nextUnsolicited(timeoutMs: number): Promise<Record<string, unknown>> {
    const early = this.unclaimed.shift();
    if (early !== undefined) return Promise.resolve(early);
    return new Promise((resolve, reject) => {
      if (this.exitMessage !== undefined) return reject(new Error(this.exitMessage));
      const timer = setTimeout(() => reject(new Error(`no output within ${timeoutMs} ms: ${this.stderr.trim()}`)), timeoutMs);
      void this.exited.then(() => {
        clearTimeout(timer);
        reject(new Error(this.exitMessage));
      });
      this.unsolicited.push((line) => {
        clearTimeout(timer);
        resolve(line);
      });
    });
  }

  /** Sends `{id, ...request}` on stdin; resolves with the reply's `result`, rejects with its `error`. */
  request<T>(request: Record<string, unknown>): Promise<T> {
    if (this.exitMessage !== undefined) return Promise.reject(new Error(this.exitMessage));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.stdin!.write(`${JSON.stringify({ id, ...request })}\n`);
    });
  }

  /** Closes stdin (if any) and sends SIGTERM to the pid; SIGKILL after 5 s. Idempotent. */
  async stop(): Promise<void> {
    if (this.exitMessage === undefined) {
      this.child.stdin?.end();
      try {
        process.kill(this.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      const timer = setTimeout(() => this.exitMessage === undefined && this.child.kill('SIGKILL'), 5000);
      await this.exited;
      clearTimeout(timer);
    }
    this.lines.close();
  }

  private onLine(text: string): void {
    let line: Record<string, unknown>;
    try {
      line = JSON.parse(text) as Record<string, unknown>;
    } catch {
      this.stderr = (this.stderr + `\n(stdout) ${text}`).slice(-4000);
      return;
    }
    const id = typeof line.id === 'number' ? line.id : undefined;
    const waiter = id === undefined ? undefined : this.pending.get(id);
    if (waiter === undefined || id === undefined) {
      const next = this.unsolicited.shift();
      if (next !== undefined) next(line);
      else this.unclaimed.push(line);
      return;
    }
    this.pending.delete(id);
    if (typeof line.error === 'string') waiter.reject(new Error(line.error));
    else waiter.resolve(line.result);
  }
}

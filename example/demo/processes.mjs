// The real binaries (each package's `bin`, dist/main.js) as separate processes: started with
// their output in a log file, waited on through their /readyz, stopped by their own pid.
import { spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** `packages/<pkg>/dist/main.js` under the repository root. */
export const binary = (repo, pkg) => join(repo, 'packages', pkg, 'dist', 'main.js');

export class Processes {
  /** @type {{ name: string, child: import('node:child_process').ChildProcess, log: string, exited: Promise<unknown> }[]} */
  running = [];

  constructor(logDir) {
    this.logDir = logDir;
  }

  /** Starts `node <main> args…`; `argv0` may prefix it (e.g. ip netns exec NS). */
  start(name, main, args, prefix = []) {
    const log = join(this.logDir, `${name}.log`);
    const out = createWriteStream(log);
    const [file, ...rest] = prefix.length > 0 ? [...prefix, process.execPath, main, ...args] : [process.execPath, main, ...args];
    const child = spawn(file, rest, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(out);
    child.stderr.pipe(out);
    const exited = new Promise((r) => child.once('exit', (code, signal) => r(code ?? signal)));
    const entry = { name, child, log, exited };
    this.running.push(entry);
    return entry;
  }

  /** Waits for `url` (a /readyz) to answer 200; throws with the log's tail if the process exits first. */
  async ready(entry, url, timeoutMs = 600_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (entry.child.exitCode !== null || entry.child.signalCode !== null) throw new Error(`${entry.name} exited before it was ready:\n${this.tail(entry)}`);
      const status = await fetch(url).then((r) => r.status, () => 0);
      if (status === 200) return;
      if (Date.now() > deadline) throw new Error(`${entry.name} not ready at ${url} after ${timeoutMs / 1000} s:\n${this.tail(entry)}`);
      await sleep(200);
    }
  }

  tail(entry, lines = 15) {
    try {
      return readFileSync(entry.log, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** Stops one process by its pid (SIGTERM, then SIGKILL after 10 s). */
  async stop(entry) {
    if (entry.child.exitCode !== null || entry.child.signalCode !== null) return;
    entry.child.kill('SIGTERM');
    const timer = setTimeout(() => entry.child.kill('SIGKILL'), 10_000);
    await entry.exited;
    clearTimeout(timer);
  }

  /** Stops every process, last started first. */
  async stopAll() {
    for (const entry of [...this.running].reverse()) await this.stop(entry);
  }
}

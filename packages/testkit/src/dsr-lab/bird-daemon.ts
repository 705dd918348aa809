import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** A BIRD process in a namespace, started with a pidfile and stopped by that pid. */
export interface BirdDaemon {
  readonly netns: string;
  readonly pid: number;
  readonly configFile: string;
  readonly controlSocket: string;
  readonly pidFile: string;
  readonly logFile: string;
  /** The last lines of the log (for failure messages). */
  logTail(lines?: number): Promise<string>;
  /** SIGTERM by pid, then waits for it to exit (SIGKILL after 5 s). Idempotent. */
  stop(): Promise<void>;
}

export interface StartBirdOptions {
  readonly netns: string;
  /** File-name stem in `workDir`: `<name>.conf`, `.ctl`, `.pid`, `.log`. */
  readonly name: string;
  readonly workDir: string;
  /** Renders the configuration, given the log file it should write to. */
  readonly config: (logFile: string) => string;
  /** Default /usr/sbin/bird. */
  readonly birdBinary?: string;
  /** How long to wait for the control socket; default 20 s. */
  readonly readyTimeoutMs?: number;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resolves once BIRD's control socket greets (`0001 BIRD … ready.`): the daemon runs its main loop. */
function greeting(socketPath: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(socketPath);
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      s.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    s.setEncoding('utf8');
    s.on('data', (d: string) => done(d.startsWith('0001 ')));
    s.on('error', () => done(false));
  });
}

/**
 * Writes the configuration and starts `bird -f` (foreground, so it stays this process's
 * child) inside the namespace; resolves once it answers on its control socket.
 */
export async function startBird(options: StartBirdOptions): Promise<BirdDaemon> {
  const base = join(options.workDir, options.name);
  const configFile = `${base}.conf`;
  const controlSocket = `${base}.ctl`;
  const pidFile = `${base}.pid`;
  const logFile = `${base}.log`;
  await writeFile(configFile, options.config(logFile));
  const child = spawn('ip', ['netns', 'exec', options.netns, options.birdBinary ?? '/usr/sbin/bird', '-f', '-c', configFile, '-s', controlSocket, '-P', pidFile], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString('utf8');
  });
  let exited: string | undefined;
  const gone = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = `bird in ${options.netns} exited (${code ?? signal}): ${stderr.trim()}`;
      resolve();
    });
  });
  const logTail = async (lines = 20): Promise<string> => {
    const text = await readFile(logFile, 'utf8').catch(() => '');
    return text.split('\n').slice(-lines - 1).join('\n');
  };
  const stopByPid = async (): Promise<void> => {
    if (exited !== undefined) return;
    const text = await readFile(pidFile, 'utf8').catch(() => '');
    const pid = Number.parseInt(text.trim(), 10);
    const target = Number.isInteger(pid) && pid > 0 ? pid : child.pid;
    if (target === undefined || !alive(target)) return;
    process.kill(target, 'SIGTERM');
    const timer = setTimeout(() => alive(target) && process.kill(target, 'SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 20_000);
  // BIRD opens its control socket and pidfile before it reads the configuration, so only a
  // greeting on the socket says the configuration was accepted.
  while (!(existsSync(controlSocket) && existsSync(pidFile) && exited === undefined && (await greeting(controlSocket, 1000)))) {
    if (exited !== undefined) throw new Error(exited);
    if (Date.now() > deadline) {
      await stopByPid().catch(() => undefined);
      throw new Error(`bird in ${options.netns} did not create ${controlSocket} in time: ${stderr.trim()}\n${await logTail()}`);
    }
    await sleep(50);
  }
  const written = Number.parseInt((await readFile(pidFile, 'utf8')).trim(), 10);
  const pid = Number.isInteger(written) && written > 0 ? written : (child.pid ?? -1);
  return { netns: options.netns, pid, configFile, controlSocket, pidFile, logFile, logTail, stop: stopByPid };
}

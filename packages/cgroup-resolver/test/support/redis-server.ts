// A real redis-server for the events tests: on a unix socket in a temporary folder, no
// persistence, started with a pidfile and stopped by that pid (LAB.md). Restartable on the
// same socket (a "Redis came back" test).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export class TestRedis {
  readonly dir = mkdtempSync(join(tmpdir(), 'bdr-redis-'));
  readonly socket = join(this.dir, 'redis.sock');
  private readonly pidfile = join(this.dir, 'redis.pid');
  private pid: number | undefined;

  get url(): string {
    return `unix://${this.socket}`;
  }

  async start(): Promise<void> {
    const child = spawn(
      'redis-server',
      ['--port', '0', '--unixsocket', this.socket, '--unixsocketperm', '700', '--save', '', '--appendonly', 'no', '--daemonize', 'yes', '--pidfile', this.pidfile, '--dir', this.dir, '--logfile', join(this.dir, 'redis.log')],
      { stdio: 'ignore' },
    );
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    if (code !== 0) throw new Error(`redis-server exited ${code}`);
    const deadline = Date.now() + 10_000;
    while (!existsSync(this.socket) || !existsSync(this.pidfile)) {
      if (Date.now() > deadline) throw new Error('redis-server did not create its socket within 10 s');
      await new Promise((r) => setTimeout(r, 10));
    }
    this.pid = Number(readFileSync(this.pidfile, 'utf8').trim());
  }

  /** SIGKILL by pid (as a crash), and wait until it is gone. */
  async kill(): Promise<void> {
    const pid = this.pid;
    if (pid === undefined) return;
    this.pid = undefined;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      return;
    }
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        process.kill(pid, 0);
      } catch {
        break;
      }
      if (Date.now() > deadline) throw new Error(`redis-server ${pid} still alive 10 s after SIGKILL`);
      await new Promise((r) => setTimeout(r, 10));
    }
    rmSync(this.socket, { force: true });
    rmSync(this.pidfile, { force: true });
  }

  /** A client of this server (the caller disconnects it). */
  client(): Redis {
    return new Redis({ path: this.socket, lazyConnect: false, maxRetriesPerRequest: 1 });
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** redis-server is installed (setup.sh installs it; outside CI a missing one skips loudly). */
export function redisServerAvailable(): boolean {
  return ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].some((p) => existsSync(p));
}

// A scripted stand-in for BIRD's control socket, for the protocol's edge cases that the real
// daemon will not produce on demand (silence, a connection cut mid-reply, garbage). What real
// BIRD answers is covered against the real daemon in bird.integration.test.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What to do with one command: write (after delayMs; then maybe cut the connection), stay silent, or cut at once. */
export type Script = (command: string) => { write: string; delayMs?: number; thenCut?: boolean } | 'silence' | 'cut';

export interface FakeBird {
  readonly socketPath: string;
  /** Commands received, in order. */
  readonly commands: string[];
  /** Connections accepted so far. */
  connections: number;
  /** A command arrived while the previous one was still unanswered. */
  overlaps: number;
  close(): Promise<void>;
}

export async function startFakeBird(script: Script, greeting = '0001 BIRD 2.0.12 ready.\n'): Promise<FakeBird> {
  const dir = mkdtempSync(join(tmpdir(), 'fake-bird-'));
  const socketPath = join(dir, 'bird.ctl');
  const sockets = new Set<Socket>();
  const fake: FakeBird = {
    socketPath,
    commands: [],
    connections: 0,
    overlaps: 0,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    fake.connections++;
    socket.write(greeting);
    let buffer = '';
    let busy = false;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const command = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        fake.commands.push(command);
        if (busy) fake.overlaps++;
        const action = script(command);
        if (action === 'silence') continue;
        if (action === 'cut') {
          socket.destroy();
          return;
        }
        busy = true;
        setTimeout(() => {
          busy = false;
          if (socket.destroyed) return;
          socket.write(action.write);
          if (action.thenCut === true) socket.end();
        }, action.delayMs ?? 0);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return fake;
}

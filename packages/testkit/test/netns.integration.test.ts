import { describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { createNetns, deleteNetns, execInNetns, spawnInNetns, uniqueName, withNetns } from '../src/index.js';

// Needs root and a kernel with netns + veth (the host has both). All traffic stays inside
// the two namespaces the test creates.
const SERVER = `
const net = require('node:net');
const s = net.createServer((c) => { c.end('pong'); });
s.listen(7777, '10.231.0.2', () => process.stdout.write('listening\\n'));
`;
const CLIENT = `
const net = require('node:net');
const c = net.connect(7777, '10.231.0.2');
let got = '';
c.on('data', (d) => { got += d; });
c.on('end', () => { process.stdout.write(got); });
c.on('error', (e) => { process.stderr.write(String(e)); process.exit(1); });
`;

describe('netns helpers', () => {
  if (process.getuid?.() !== 0) {
    process.stderr.write('NOTICE: netns helper tests need root; they will fail here\n');
  }

  it('makes unique names that fit an interface name', () => {
    const a = uniqueName('blv');
    const b = uniqueName('blv');
    expect(a).not.toBe(b);
    expect(a.length).toBeLessThanOrEqual(15);
    expect(a).toContain(process.pid.toString(36));
  });

  it('creates a namespace with lo up and deletes it', async () => {
    const ns = await createNetns();
    try {
      expect(existsSync(`/run/netns/${ns}`)).toBe(true);
      const r = await execInNetns(ns, 'ip', ['-o', 'link', 'show', 'lo']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/state UNKNOWN|LOWER_UP/);
    } finally {
      await deleteNetns(ns);
    }
    expect(existsSync(`/run/netns/${ns}`)).toBe(false);
    await deleteNetns(ns); // idempotent
  });

  it('connects over TCP across a veth between two namespaces and cleans up', async () => {
    let names: string[] = [];
    await withNetns(async (lab) => {
      const client = await lab.netns();
      const server = await lab.netns();
      names = [client, server];
      await lab.veth({ netns: client, address: '10.231.0.1/30' }, { netns: server, address: '10.231.0.2/30' });

      const srv = spawnInNetns(server, process.execPath, ['-e', SERVER]);
      try {
        await new Promise<void>((resolve, reject) => {
          srv.stdout?.on('data', (d: Buffer) => {
            if (d.toString().includes('listening')) resolve();
          });
          srv.on('exit', (code) => reject(new Error(`server exited ${code}`)));
        });
        const r = await lab.exec(client, process.execPath, ['-e', CLIENT], { timeoutMs: 10_000 });
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        expect(r.stdout).toBe('pong');
      } finally {
        if (srv.pid !== undefined) process.kill(srv.pid, 'SIGTERM');
      }
    });
    for (const n of names) expect(existsSync(`/run/netns/${n}`)).toBe(false);
  }, 30_000);

  it('cleans up even when the body throws', async () => {
    let name = '';
    await expect(
      withNetns(async (lab) => {
        name = await lab.netns();
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(name).not.toBe('');
    expect(existsSync(`/run/netns/${name}`)).toBe(false);
  });
});

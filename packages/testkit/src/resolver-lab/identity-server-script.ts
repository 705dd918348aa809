/**
 * The identity servers (node, ESM, given as `-e`): one process serving many listeners.
 * argv[1]: `{"listeners":[{"name","address","port","protocol":"tcp"|"udp"|"both"}]}`.
 *
 * - TCP: each connection gets the listener's name and a newline at once; everything the
 *   client sends after that is echoed back byte for byte (round-trip exchanges).
 * - UDP: each datagram is answered with the name (no newline) from a socket bound to the
 *   listener's own address, so the reply's source is the address the datagram was sent to.
 *
 * Prints `{"ready":true,"listeners":n}` once every listener is bound. Optional JSON-line
 * requests on stdin (`{"id","op",...}` → `{"id","result"}` / `{"id","error"}`):
 * `stats` → per name {tcp: connections accepted, udp: datagrams answered, open: live TCP};
 * `kick {name?}` resets the live TCP connections of one listener (or all) → how many;
 * `close {name}` stops that listener's servers (new connects are refused) → how many.
 */
export const IDENTITY_SERVER_SCRIPT = String.raw`
import net from 'node:net';
import dgram from 'node:dgram';
import { createInterface } from 'node:readline';

const cfg = JSON.parse(process.argv[1]);
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const stats = {};
const conns = {};
const servers = {};

async function listen(l) {
  const proto = l.protocol || 'both';
  stats[l.name] ??= { tcp: 0, udp: 0, open: 0 };
  conns[l.name] ??= new Set();
  servers[l.name] ??= [];
  if (proto === 'tcp' || proto === 'both') {
    const srv = net.createServer({ noDelay: true }, (s) => {
      stats[l.name].tcp++;
      conns[l.name].add(s);
      stats[l.name].open = conns[l.name].size;
      s.on('error', () => {});
      s.on('close', () => { conns[l.name].delete(s); stats[l.name].open = conns[l.name].size; });
      s.on('end', () => s.end());
      s.on('data', (chunk) => s.write(chunk));
      s.write(l.name + '\n');
    });
    await new Promise((resolve, reject) => {
      srv.once('error', reject);
      srv.listen({ host: l.address, port: l.port, backlog: 4096 }, resolve);
    });
    srv.on('error', () => {});
    servers[l.name].push(srv);
  }
  if (proto === 'udp' || proto === 'both') {
    const sock = dgram.createSocket({ type: net.isIPv6(l.address) ? 'udp6' : 'udp4', ipv6Only: net.isIPv6(l.address) });
    sock.on('message', (_msg, r) => {
      stats[l.name].udp++;
      sock.send(l.name, r.port, r.address);
    });
    await new Promise((resolve, reject) => {
      sock.once('error', reject);
      sock.bind({ address: l.address, port: l.port }, resolve);
    });
    sock.on('error', (e) => process.stderr.write('udp ' + l.name + ': ' + e.message + '\n'));
    servers[l.name].push(sock);
  }
}

for (const l of cfg.listeners) await listen(l);

const ops = {
  stats: () => stats,
  kick: (job) => {
    let n = 0;
    for (const [name, set] of Object.entries(conns)) {
      if (job.name !== undefined && job.name !== name) continue;
      for (const s of set) { s.resetAndDestroy(); n++; }
    }
    return n;
  },
  close: (job) => {
    const list = servers[job.name] || [];
    for (const s of list) s.close();
    delete servers[job.name];
    return list.length;
  },
};

if (process.stdin && !process.stdin.destroyed) {
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    if (line.trim() === '') return;
    let job;
    try { job = JSON.parse(line); } catch (e) { return out({ error: 'bad request' }); }
    const op = ops[job.op];
    if (!op) return out({ id: job.id, error: 'unknown op ' + job.op });
    try { out({ id: job.id, result: op(job) }); } catch (e) { out({ id: job.id, error: String(e && e.message || e) }); }
  });
}
process.on('SIGTERM', () => process.exit(0));
out({ ready: true, listeners: cfg.listeners.length });
`;

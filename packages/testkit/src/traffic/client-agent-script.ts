/**
 * The client program (node, ESM, given as `-e`), run in the client's namespace. It reads
 * one JSON request per line on stdin and prints one JSON reply per line, `{"id","result"}`
 * or `{"id","error"}`; requests run concurrently. Operations:
 *
 * - `tcp-burst` {target, clients, concurrency, timeoutMs}: one connection per client
 *   endpoint (bound to that source address:port), sends one line, reads the server's JSON
 *   line, closes; at most `concurrency` at a time. Result: one exchange per client.
 * - `tcp-open` {set, target, clients, concurrency, timeoutMs}: the same, but keeps the
 *   connections open under the name `set`.
 * - `tcp-ping` {set, timeoutMs}: one more request/response on every connection of `set`.
 * - `tcp-close` {set}: closes them. Result: how many.
 * - `udp` {target, clients, concurrency, timeoutMs, attempts}: one datagram per client
 *   endpoint (socket bound to it), waits for the reply, retries up to `attempts` times.
 *
 * An exchange is `{ok:true, client, peer, server}` (peer = the socket's remote end,
 * server = what the server reported) or `{ok:false, client, error}`; a UDP exchange has
 * `from` (the reply's source) and `attempts` instead of `peer`.
 */
export const CLIENT_AGENT_SCRIPT = String.raw`
import net from 'node:net';
import dgram from 'node:dgram';
import { createInterface } from 'node:readline';

const sets = new Map();
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const errorText = (e) => (e && e.code) || (e && e.message) || String(e);

async function pool(items, concurrency, fn) {
  const results = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
  return results;
}

// A line reader over a socket: read(timeoutMs) resolves with the next line.
function lineReader(socket) {
  let buffered = '';
  const lines = [];
  let waiter = null;
  let failure = null;
  socket.setEncoding('utf8');
  socket.on('data', (chunk) => {
    buffered += chunk;
    let i;
    while ((i = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, i);
      buffered = buffered.slice(i + 1);
      if (waiter) { const w = waiter; waiter = null; w.resolve(line); } else lines.push(line);
    }
  });
  const fail = (e) => {
    if (!failure) failure = e;
    if (waiter) { const w = waiter; waiter = null; w.reject(failure); }
  };
  socket.on('error', fail);
  socket.on('close', () => fail(new Error('closed')));
  return (timeoutMs) => {
    if (lines.length > 0) return Promise.resolve(lines.shift());
    if (failure) return Promise.reject(failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { waiter = null; reject(new Error('timeout')); }, timeoutMs);
      waiter = {
        resolve: (l) => { clearTimeout(timer); resolve(l); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      };
    });
  };
}

function connect(target, client, timeoutMs) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: target.address, port: target.port, localAddress: client.address, localPort: client.port, noDelay: true });
    socket.on('error', () => {});
    const timer = setTimeout(() => { socket.destroy(); reject(new Error('connect timeout')); }, timeoutMs);
    socket.once('connect', () => { clearTimeout(timer); resolve(socket); });
    socket.once('error', (e) => { clearTimeout(timer); reject(e); });
  });
}

async function ask(conn, text, timeoutMs) {
  conn.socket.write(text + '\n');
  const line = await conn.read(timeoutMs);
  return { ok: true, client: conn.client, peer: conn.peer, server: JSON.parse(line) };
}

async function open(target, client, timeoutMs) {
  const socket = await connect(target, client, timeoutMs);
  return { socket, read: lineReader(socket), client, peer: { address: socket.remoteAddress, port: socket.remotePort } };
}

async function tcpBurst(job) {
  return pool(job.clients, job.concurrency, async (client) => {
    let conn;
    try {
      conn = await open(job.target, client, job.timeoutMs);
      return await ask(conn, 'hello', job.timeoutMs);
    } catch (e) {
      return { ok: false, client, error: errorText(e) };
    } finally {
      if (conn) conn.socket.end();
    }
  });
}

async function tcpOpen(job) {
  if (sets.has(job.set)) throw new Error('set ' + job.set + ' is already open');
  const conns = [];
  sets.set(job.set, conns);
  return pool(job.clients, job.concurrency, async (client) => {
    try {
      const conn = await open(job.target, client, job.timeoutMs);
      conns.push(conn);
      return await ask(conn, 'hello', job.timeoutMs);
    } catch (e) {
      return { ok: false, client, error: errorText(e) };
    }
  });
}

function setOf(job) {
  const conns = sets.get(job.set);
  if (!conns) throw new Error('no open set ' + job.set);
  return conns;
}

async function tcpPing(job) {
  const conns = setOf(job);
  return Promise.all(conns.map((conn) => ask(conn, 'ping', job.timeoutMs).catch((e) => ({ ok: false, client: conn.client, error: errorText(e) }))));
}

async function tcpClose(job) {
  const conns = setOf(job);
  for (const conn of conns) conn.socket.destroy();
  sets.delete(job.set);
  return conns.length;
}

function udpOnce(job, client) {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    let attempts = 0;
    let timer;
    let done = false;
    const finish = (result) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.close();
      resolve(result);
    };
    const send = () => {
      attempts++;
      socket.send('hello\n', job.target.port, job.target.address);
      timer = setTimeout(() => (attempts < job.attempts ? send() : finish({ ok: false, client, error: 'timeout' })), job.timeoutMs);
    };
    socket.on('error', (e) => finish({ ok: false, client, error: errorText(e) }));
    socket.on('message', (msg, r) => finish({ ok: true, client, from: { address: r.address, port: r.port }, server: JSON.parse(msg.toString('utf8')), attempts }));
    socket.bind({ address: client.address, port: client.port }, send);
  });
}

async function udp(job) {
  return pool(job.clients, job.concurrency, (client) => udpOnce(job, client));
}

const ops = { 'tcp-burst': tcpBurst, 'tcp-open': tcpOpen, 'tcp-ping': tcpPing, 'tcp-close': tcpClose, udp };

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  if (line.trim() === '') return;
  let job;
  try {
    job = JSON.parse(line);
  } catch (e) {
    return out({ error: 'bad request: ' + errorText(e) });
  }
  const op = ops[job.op];
  if (!op) return out({ id: job.id, error: 'unknown op ' + job.op });
  op(job).then((result) => out({ id: job.id, result }), (e) => out({ id: job.id, error: errorText(e) }));
});
rl.on('close', () => {
  for (const conns of sets.values()) for (const conn of conns) conn.socket.destroy();
  sets.clear();
});
process.on('SIGTERM', () => process.exit(0));
out({ ready: true });
`;

/**
 * The resolver lab's client (node, ESM, given as `-e`), run in a test cgroup + netns.
 * Reads `{"id","op",...}` lines on stdin, answers `{"id","result"}` / `{"id","error"}`;
 * requests run concurrently. Talks to the identity servers (TCP greeting = the backend's
 * name and a newline, then echo; UDP reply = the name). Errors are reported by errno code
 * (`ECONNREFUSED`, …) or `timeout`. Times are ms (performance.now()).
 *
 * - `tcp` {address, port, count, exchange, concurrency, timeoutMs}: count connections;
 *   each reads the greeting, then does `exchange` echo round trips, then closes.
 *   → {counts, failures, peers, connections[{ok, backend, remoteAddress, remotePort, ms} | {ok:false, error, ms}]}
 *   (remoteAddress/remotePort = getpeername as Node reports it).
 * - `udp-unconnected` {address, port, count, timeoutMs}: ONE socket, sendto/recvfrom count
 *   times. → {counts, failures, sources, replies[{ok, backend, from:{address,port}} | {ok:false,error}]}
 * - `udp-connected` {address, port, count, timeoutMs}: per request a socket that connects,
 *   sends, receives. → {counts, failures, peers, replies[{ok, backend, remoteAddress, remotePort}]}
 * - `loop-start` {loop, address, port, timeoutMs, intervalMs, maxMs, maxAttempts}: connects
 *   one after another until `loop-stop` {loop} (or the bounds); each attempt reads the
 *   greeting. `loop-stop` → {timeline[{t, ms, ok, backend} | {t, ms, ok:false, error}], ms}
 * - `hold` {hold, address, port, protocol:'tcp'|'udp', pingMs, timeoutMs, maxReconnects}:
 *   opens a TCP connection or a connected UDP socket and keeps it. When the kernel closes or
 *   errors it (or a ping goes unanswered) an event {t, kind:'closed', backend, error} is
 *   recorded, then it reconnects: {t, kind:'reconnected', backend, remoteAddress, remotePort}
 *   or {t, kind:'reconnect-failed', error}. → the first {backend, remoteAddress, remotePort}.
 *   `hold-wait` {hold, count, timeoutMs} → events once there are at least `count` (else what
 *   there is, with timedOut); `hold-events` {hold} → events; `hold-stop` {hold} → events.
 * - `refused` {address, port, protocol:'tcp'|'udp-connect'|'udp-send', count, timeoutMs}:
 *   times attempts expected to fail at once. → {results[{ok, error?, ms}]}
 */
export const RESOLVER_CLIENT_SCRIPT = String.raw`
import net from 'node:net';
import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';

const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const code = (e) => (e && e.code) || (e && e.message) || String(e);
const now = () => performance.now();
const round = (ms) => Math.round(ms * 1000) / 1000;
const bump = (o, k) => { o[k] = (o[k] || 0) + 1; };
const ep = (a, p) => (String(a).includes(':') ? '[' + a + ']' : a) + ':' + p;
const udpType = (address) => (net.isIPv6(address) ? 'udp6' : 'udp4');
const loops = new Map();
const holds = new Map();

// Connects; resolves {socket, backend} once the greeting line is in. Bytes after it stay in socket.rest.
function tcpOpen(address, port, timeoutMs) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: address, port, noDelay: true });
    let buf = '';
    let settled = false;
    const fail = (e) => { if (settled) return; settled = true; clearTimeout(timer); socket.destroy(); reject(e); };
    const timer = setTimeout(() => fail(Object.assign(new Error('timeout'), { code: 'timeout' })), timeoutMs);
    socket.setEncoding('latin1');
    socket.on('error', fail);
    socket.on('close', () => fail(Object.assign(new Error('closed before greeting'), { code: 'EOF' })));
    const onData = (chunk) => {
      buf += chunk;
      const i = buf.indexOf('\n');
      if (i < 0 || settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off('data', onData); // fail() stays attached: a no-op once settled
      socket.pause();
      resolve({ socket, backend: buf.slice(0, i), rest: buf.slice(i + 1), remoteAddress: socket.remoteAddress, remotePort: socket.remotePort });
    };
    socket.on('data', onData);
  });
}

// n echo round trips of 2 bytes each on an open connection.
function exchange(conn, rounds, timeoutMs) {
  if (!rounds) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const { socket } = conn;
    let pending = conn.rest.length;
    let done = 0;
    const timer = setTimeout(() => finish(Object.assign(new Error('timeout'), { code: 'timeout' })), timeoutMs);
    const finish = (e) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', finish);
      if (e) reject(e); else resolve();
    };
    const onData = (chunk) => {
      pending += chunk.length;
      while (pending >= 2) {
        pending -= 2;
        done++;
        if (done === rounds) return finish();
        socket.write('x\n');
      }
    };
    socket.on('data', onData);
    socket.on('error', finish);
    socket.resume();
    socket.write('x\n');
  });
}

async function tcpOnce(job) {
  const t0 = now();
  let conn;
  try {
    conn = await tcpOpen(job.address, job.port, job.timeoutMs);
    await exchange(conn, job.exchange || 0, job.timeoutMs);
    return { ok: true, backend: conn.backend, remoteAddress: conn.remoteAddress, remotePort: conn.remotePort, ms: round(now() - t0) };
  } catch (e) {
    return { ok: false, error: code(e), ms: round(now() - t0) };
  } finally {
    if (conn) conn.socket.destroy();
  }
}

async function pool(count, concurrency, fn) {
  const results = new Array(count);
  let next = 0;
  const worker = async () => { while (next < count) { const i = next++; results[i] = await fn(i); } };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency || 1, count)) }, worker));
  return results;
}

async function tcp(job) {
  const connections = await pool(job.count, job.concurrency, () => tcpOnce(job));
  const counts = {}, failures = {}, peers = {};
  for (const c of connections) {
    if (c.ok) { bump(counts, c.backend); bump(peers, ep(c.remoteAddress, c.remotePort)); } else bump(failures, c.error);
  }
  return { counts, failures, peers, connections };
}

// One reply on a dgram socket (or an error / timeout).
function udpReply(socket, timeoutMs) {
  return new Promise((resolve) => {
    const done = (r) => { clearTimeout(timer); socket.off('message', onMsg); socket.off('error', onErr); resolve(r); };
    const onMsg = (msg, r) => done({ ok: true, backend: msg.toString('latin1'), from: { address: r.address, port: r.port } });
    const onErr = (e) => done({ ok: false, error: code(e) });
    const timer = setTimeout(() => done({ ok: false, error: 'timeout' }), timeoutMs);
    socket.on('message', onMsg);
    socket.on('error', onErr);
  });
}

async function udpUnconnected(job) {
  const socket = dgram.createSocket(udpType(job.address));
  socket.on('error', () => {});
  const replies = [];
  try {
    for (let i = 0; i < job.count; i++) {
      const reply = udpReply(socket, job.timeoutMs);
      socket.send('q' + i, job.port, job.address, (e) => { if (e) socket.emit('error', e); });
      replies.push(await reply);
    }
  } finally {
    socket.close();
  }
  const counts = {}, failures = {}, sources = {};
  for (const r of replies) {
    if (r.ok) { bump(counts, r.backend); bump(sources, ep(r.from.address, r.from.port)); } else bump(failures, r.error);
  }
  return { counts, failures, sources, replies };
}

function udpConnect(address, port, timeoutMs) {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(udpType(address));
    socket.on('error', () => {});
    const timer = setTimeout(() => { socket.close(); reject(Object.assign(new Error('timeout'), { code: 'timeout' })); }, timeoutMs);
    socket.connect(port, address, (e) => {
      clearTimeout(timer);
      if (e) { try { socket.close(); } catch {} reject(e); return; }
      resolve(socket);
    });
  });
}

async function udpConnectedOnce(job) {
  let socket;
  try {
    socket = await udpConnect(job.address, job.port, job.timeoutMs);
    const peer = socket.remoteAddress();
    const reply = udpReply(socket, job.timeoutMs);
    socket.send('q', (e) => { if (e) socket.emit('error', e); });
    const r = await reply;
    return r.ok ? { ok: true, backend: r.backend, remoteAddress: peer.address, remotePort: peer.port } : r;
  } catch (e) {
    return { ok: false, error: code(e) };
  } finally {
    if (socket) try { socket.close(); } catch {}
  }
}

async function udpConnected(job) {
  const replies = [];
  for (let i = 0; i < job.count; i++) replies.push(await udpConnectedOnce(job));
  const counts = {}, failures = {}, peers = {};
  for (const r of replies) {
    if (r.ok) { bump(counts, r.backend); bump(peers, ep(r.remoteAddress, r.remotePort)); } else bump(failures, r.error);
  }
  return { counts, failures, peers, replies };
}

function loopStart(job) {
  if (loops.has(job.loop)) throw new Error('loop ' + job.loop + ' is running');
  const state = { stop: false, timeline: [], t0: now() };
  const maxMs = job.maxMs ?? 120000;
  const maxAttempts = job.maxAttempts ?? 200000;
  state.done = (async () => {
    while (!state.stop && now() - state.t0 < maxMs && state.timeline.length < maxAttempts) {
      const t = round(now() - state.t0);
      const r = await tcpOnce({ address: job.address, port: job.port, timeoutMs: job.timeoutMs });
      state.timeline.push(r.ok ? { t, ms: r.ms, ok: true, backend: r.backend } : { t, ms: r.ms, ok: false, error: r.error });
      await new Promise((res) => (job.intervalMs ? setTimeout(res, job.intervalMs) : setImmediate(res)));
    }
  })();
  loops.set(job.loop, state);
  return { started: true };
}

async function loopStop(job) {
  const state = loops.get(job.loop);
  if (!state) throw new Error('no loop ' + job.loop);
  state.stop = true;
  await state.done;
  loops.delete(job.loop);
  return { timeline: state.timeline, ms: round(now() - state.t0), origin: performance.timeOrigin + state.t0 };
}

// A held TCP connection or connected UDP socket; calls onLost(error) once.
async function holdOpen(job, onLost) {
  if (job.protocol === 'udp') {
    const socket = await udpConnect(job.address, job.port, job.timeoutMs);
    const peer = socket.remoteAddress();
    const first = udpReply(socket, job.timeoutMs);
    socket.send('q', (e) => { if (e) socket.emit('error', e); });
    const r = await first;
    if (!r.ok) { try { socket.close(); } catch {} throw Object.assign(new Error(r.error), { code: r.error }); }
    let lost = false;
    const lose = (e) => { if (lost) return; lost = true; clearInterval(timer); try { socket.close(); } catch {} onLost(code(e)); };
    socket.on('error', lose);
    let busy = false;
    const timer = setInterval(async () => {
      if (busy || lost) return;
      busy = true;
      const reply = udpReply(socket, job.timeoutMs);
      try { socket.send('p', (e) => { if (e) lose(e); }); } catch (e) { lose(e); }
      const res = await reply;
      busy = false;
      if (!res.ok) lose(res.error);
    }, job.pingMs ?? 200);
    return { backend: r.backend, remoteAddress: peer.address, remotePort: peer.port, close: () => { lost = true; clearInterval(timer); try { socket.close(); } catch {} } };
  }
  const conn = await tcpOpen(job.address, job.port, job.timeoutMs);
  const { socket } = conn;
  let lost = false;
  let timer;
  const lose = (e) => { if (lost) return; lost = true; clearInterval(timer); socket.destroy(); onLost(e); };
  socket.on('error', (e) => lose(code(e)));
  socket.on('end', () => lose('EOF'));
  socket.on('close', () => lose('closed'));
  let pending = 0;
  socket.on('data', (chunk) => { pending = Math.max(0, pending - chunk.length); });
  socket.resume();
  if (job.pingMs) {
    timer = setInterval(() => {
      if (pending > 0) return lose('timeout');
      pending += 2;
      socket.write('p\n');
    }, Math.max(job.pingMs, job.timeoutMs));
  }
  return { backend: conn.backend, remoteAddress: conn.remoteAddress, remotePort: conn.remotePort, close: () => { lost = true; clearInterval(timer); socket.destroy(); } };
}

async function hold(job) {
  if (holds.has(job.hold)) throw new Error('hold ' + job.hold + ' exists');
  const state = { events: [], t0: now(), current: null, stopped: false, waiters: [] };
  const push = (ev) => {
    state.events.push({ t: round(now() - state.t0), ...ev });
    for (const w of state.waiters.splice(0)) w();
  };
  const maxReconnects = job.maxReconnects ?? 20;
  let reconnects = 0;
  const onLost = async (error) => {
    const backend = state.current && state.current.backend;
    state.current = null;
    push({ kind: 'closed', backend, error });
    while (!state.stopped && reconnects < maxReconnects) {
      reconnects++;
      try {
        state.current = await holdOpen(job, onLost);
        if (state.stopped) { state.current.close(); return; }
        push({ kind: 'reconnected', backend: state.current.backend, remoteAddress: state.current.remoteAddress, remotePort: state.current.remotePort });
        return;
      } catch (e) {
        push({ kind: 'reconnect-failed', error: code(e) });
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  state.current = await holdOpen(job, onLost);
  holds.set(job.hold, state);
  return { backend: state.current.backend, remoteAddress: state.current.remoteAddress, remotePort: state.current.remotePort };
}

function holdOf(job) {
  const state = holds.get(job.hold);
  if (!state) throw new Error('no hold ' + job.hold);
  return state;
}

async function holdWait(job) {
  const state = holdOf(job);
  const deadline = now() + (job.timeoutMs ?? 10000);
  while (state.events.length < job.count && now() < deadline) {
    await new Promise((r) => {
      const t = setTimeout(r, Math.max(1, deadline - now()));
      state.waiters.push(() => { clearTimeout(t); r(); });
    });
  }
  return { events: state.events, timedOut: state.events.length < job.count };
}

function holdStop(job) {
  const state = holdOf(job);
  state.stopped = true;
  if (state.current) state.current.close();
  holds.delete(job.hold);
  return { events: state.events };
}

function refusedOnce(job) {
  return new Promise((resolve) => {
    const t0 = now();
    const timer = setTimeout(() => finish({ ok: false, error: 'timeout' }), job.timeoutMs);
    let closer = () => {};
    const finish = (r) => { clearTimeout(timer); closer(); resolve({ ...r, ms: round(now() - t0) }); };
    if (job.protocol === 'udp-connect' || job.protocol === 'udp-send') {
      const socket = dgram.createSocket(udpType(job.address));
      closer = () => { try { socket.close(); } catch {} };
      socket.on('error', (e) => finish({ ok: false, error: code(e) }));
      if (job.protocol === 'udp-connect') socket.connect(job.port, job.address, (e) => finish(e ? { ok: false, error: code(e) } : { ok: true }));
      else socket.send('q', job.port, job.address, (e) => finish(e ? { ok: false, error: code(e) } : { ok: true }));
      return;
    }
    const socket = net.connect({ host: job.address, port: job.port });
    closer = () => socket.destroy();
    socket.on('error', (e) => finish({ ok: false, error: code(e) }));
    socket.on('connect', () => finish({ ok: true }));
  });
}

async function refused(job) {
  const results = [];
  for (let i = 0; i < (job.count || 1); i++) results.push(await refusedOnce(job));
  return { results };
}

const ops = {
  tcp, 'udp-unconnected': udpUnconnected, 'udp-connected': udpConnected,
  'loop-start': loopStart, 'loop-stop': loopStop,
  hold, 'hold-wait': holdWait, 'hold-events': (job) => ({ events: holdOf(job).events }), 'hold-stop': holdStop,
  refused,
};

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  if (line.trim() === '') return;
  let job;
  try { job = JSON.parse(line); } catch (e) { return out({ error: 'bad request: ' + code(e) }); }
  const op = ops[job.op];
  if (!op) return out({ id: job.id, error: 'unknown op ' + job.op });
  Promise.resolve().then(() => op(job)).then((result) => out({ id: job.id, result }), (e) => out({ id: job.id, error: code(e) }));
});
rl.on('close', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
out({ ready: true, pid: process.pid });
`;

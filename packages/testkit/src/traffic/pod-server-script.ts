/**
 * The program a pod runs (node, ESM, given as `-e`): a TCP server and a UDP server on one
 * address:port that answer every request line / datagram with one JSON line saying who
 * they are and what they saw: `{"pod","local","localPort","remote","remotePort"}`.
 * argv[1]: `{"name","address","port"}`. Prints `{"ready":true}` once both listen.
 *
 * The UDP socket is bound to the address (the VIP), so replies leave with the VIP as their
 * source: a socket bound to 0.0.0.0 would answer from the pod's own address and the client
 * would drop the reply.
 */
export const POD_SERVER_SCRIPT = String.raw`
import net from 'node:net';
import dgram from 'node:dgram';
const cfg = JSON.parse(process.argv[1]);
const about = (local, localPort, remote, remotePort) =>
  JSON.stringify({ pod: cfg.name, local, localPort, remote, remotePort }) + '\n';
const tcp = net.createServer({ noDelay: true }, (s) => {
  s.setEncoding('utf8');
  s.on('error', () => {});
  let buffered = '';
  s.on('data', (chunk) => {
    buffered += chunk;
    let i;
    while ((i = buffered.indexOf('\n')) >= 0) {
      buffered = buffered.slice(i + 1);
      s.write(about(s.localAddress, s.localPort, s.remoteAddress, s.remotePort));
    }
  });
  s.on('end', () => s.end());
});
const udp = dgram.createSocket('udp4');
udp.on('message', (_msg, r) => {
  const a = udp.address();
  udp.send(about(a.address, a.port, r.address, r.port), r.port, r.address);
});
udp.on('error', (e) => {
  process.stderr.write('udp: ' + e.message + '\n');
});
await new Promise((resolve, reject) => {
  tcp.once('error', reject);
  tcp.listen({ host: cfg.address, port: cfg.port, backlog: 1024 }, resolve);
});
await new Promise((resolve, reject) => {
  udp.once('error', reject);
  udp.bind({ address: cfg.address, port: cfg.port }, resolve);
});
process.on('SIGTERM', () => process.exit(0));
process.stdout.write(JSON.stringify({ ready: true }) + '\n');
`;

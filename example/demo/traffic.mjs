// Screen 3: traffic from a real client through the router, and each pod's share.
import { clientEndpoints, podShares, succeeded } from '@balanced/testkit';
import { failures } from './outcomes.mjs';
import { heading, note, shareBars } from './screens.mjs';

export async function showTraffic(lab, checks) {
  const { plan } = lab;
  const n = 300;
  const tcp = await lab.client.tcpBurst({ target: lab.target, clients: clientEndpoints(10_000, n), concurrency: 50 });
  const udp = await lab.client.udp({ target: lab.target, clients: clientEndpoints(11_000, 60) });
  const shares = podShares(tcp.exchanges);
  heading('3/6', `Traffic: ${n} TCP connections and 60 UDP requests from ${n} client addresses`);
  note(`client → router (ECMP) → a director (IPVS mh) → IPIP → pod; the pod answers the client directly (DSR)`);
  console.log('');
  shareBars(shares, plan.pods.map((p) => p.name));
  console.log('');
  const ok = succeeded(tcp.exchanges);
  checks.check('every TCP connection answered', ok.length === n, `${ok.length}/${n}, failures: ${failures(tcp.exchanges)}`);
  checks.check('replies come from the VIP and the pods saw the real client address', ok.every((e) => e.peer.address === plan.vip && e.server.remote === e.client.address));
  checks.check('every pod got a share', plan.pods.every((p) => (shares[p.name] ?? 0) > 0));
  checks.check('every UDP request answered from the VIP', succeeded(udp.exchanges).filter((e) => e.from.address === plan.vip).length === 60, `failures: ${failures(udp.exchanges)}`);
  return { shares, tcpMs: tcp.ms };
}

// Screen 4: a pod drains (terminating in its EndpointSlice): both directors give it weight 0,
// its live connections go on, new ones avoid it.
import { clientEndpoints, podShares, readDirectorTable, readVipRoutes, succeeded } from '@balanced/testkit';
import { endpointSlice } from './cluster.mjs';
import { tablesShow } from './directors.mjs';
import { failures, samePod } from './outcomes.mjs';
import { heading, note, shareBars } from './screens.mjs';
import { eventually } from './wait.mjs';

export async function showDrain(server, lab, checks) {
  const { plan } = lab;
  const drained = plan.pods[plan.pods.length - 1];
  const n = 90;
  const set = await lab.client.openTcp({ target: lab.target, clients: clientEndpoints(13_000, n) });
  try {
    const onDrained = succeeded(set.opened).filter((e) => e.server.pod === drained.name).length;
    server.store.put('endpointslices', endpointSlice(plan.pods, plan.port, [drained.name]));
    await eventually(`${drained.name} drained on every director`, () => Promise.all(plan.directors.map(readDirectorTable)), (ts) =>
      tablesShow(ts, plan.pods.map((p) => p.address), (a) => (a === drained.address ? 0 : 1)),
    );
    const pinged = await set.ping();
    const same = samePod(set.opened, pinged);
    const fresh = await lab.client.tcpBurst({ target: lab.target, clients: clientEndpoints(13_500, 150) });
    const freshShares = podShares(fresh.exchanges);
    const routes = await readVipRoutes(plan);
    heading('4/6', `Drain: ${drained.name} is terminating (EndpointSlice ready=false, serving=true)`);
    note(`both directors set ${drained.address} to weight 0: new connections avoid it, established ones stay`);
    note(`${onDrained} of the ${n} open connections were on ${drained.name}; after the drain ${same}/${n} still answer from their own pod`);
    note(`router meanwhile: ${plan.vip}/32 via ${routes.flatMap((r) => r.nexthops).join(' and ') || '(no route)'}; 150 new connections:`);
    shareBars(freshShares, plan.pods.map((p) => p.name));
    console.log('');
    checks.check(`some live connections were on ${drained.name}`, onDrained > 0, `${onDrained}`);
    checks.check('every live connection kept its pod through the drain', same === n, `${same}/${n}`);
    checks.check(`no new connection went to ${drained.name}`, (freshShares[drained.name] ?? 0) === 0 && succeeded(fresh.exchanges).length === 150, `failures: ${failures(fresh.exchanges)}`);
  } finally {
    await set.close();
  }
  server.store.put('endpointslices', endpointSlice(plan.pods, plan.port));
  await eventually(`${drained.name} back on every director`, () => Promise.all(plan.directors.map(readDirectorTable)), (ts) => tablesShow(ts, plan.pods.map((p) => p.address), () => 1));
}

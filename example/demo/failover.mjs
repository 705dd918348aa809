// Screen 5: a director fails (its link to the router goes away) with connections open; the
// other director, holding the same Maglev table, carries them on to the same pods.
import { clientEndpoints, disconnectDirector, succeeded, waitForVipNexthops } from '@balanced/testkit';
import { failures, samePod } from './outcomes.mjs';
import { heading, note } from './screens.mjs';

export async function showFailover(lab, checks) {
  const { plan } = lab;
  const n = 200;
  const set = await lab.client.openTcp({ target: lab.target, clients: clientEndpoints(14_000, n) });
  const timeline = [];
  const mark = (what) => timeline.push({ ms: Date.now() - t0, what });
  const t0 = Date.now();
  try {
    mark(`${succeeded(set.opened).length} connections open`);
    const [gone, left] = plan.directors;
    await disconnectDirector(plan, gone.index);
    mark(`director ${gone.index} unplugged from the router`);
    await waitForVipNexthops(plan, [left.link.address], { timeoutMs: 60_000 });
    mark(`BGP: the router routes the VIP through director ${left.index} only`);
    const pinged = await set.ping();
    const same = samePod(set.opened, pinged);
    mark(`${same} connections answered again, each by its own pod`);
    heading('5/6', `Failover: director ${gone.index} fails with ${n} connections open`);
    for (const t of timeline) note(`+${String((t.ms / 1000).toFixed(1)).padStart(5)} s  ${t.what}`);
    note(`director ${left.index} has the same Maglev table, so it sends every packet to the same pod: no state needed`);
    console.log('');
    checks.check('all connections opened before the failure', succeeded(set.opened).length === n, `failures: ${failures(set.opened)}`);
    checks.check('≥ 99% of the connections survived the failover', same / n >= 0.99, `${same}/${n} (${((100 * same) / n).toFixed(1)}%)`);
    return { timeline, survived: same, total: n };
  } finally {
    await set.close();
  }
}

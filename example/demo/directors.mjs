// Bring-up of the DSR half from the real binaries, then screen 2: the two directors' tables.
import { readDirectorTable, runChecked, startPodServers, startIdentityServers, waitForVipNexthops, readVipRoutes } from '@balanced/testkit';
import { endpointSlice, pod } from './cluster.mjs';
import { startDirectorAnnouncer, startDirectorController, startEndpointController } from './components.mjs';
import { startPodSandboxes } from './pods.mjs';
import { heading, note, progress, sideBySide, tableLines } from './screens.mjs';
import { CHILD_READY_MS, eventually } from './wait.mjs';

/** tunl0's addresses in a pod's namespace. */
async function tunl0Vips(netns) {
  const out = await runChecked('ip', ['-n', netns, '-j', 'addr', 'show', 'dev', 'tunl0']).catch(() => '[]');
  const [link] = JSON.parse(out || '[]');
  return (link?.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`);
}

/** Every director's table has both services with every pod at weight `w` (for `pods`). */
export const tablesShow = (tables, addresses, weightOf) =>
  tables.every((t) => t.length === 2 && t.every((s) => addresses.every((a) => s.destinations.some((d) => d.address === a && d.weight === weightOf(a)))));

export async function bringUpDirectors({ server, procs, repo, kubeconfig, lab, workDir, cgroupRoot, cleanup }) {
  const { plan } = lab;
  plan.pods.forEach((p, i) => server.store.put('pods', pod(p, i)));
  server.store.put('endpointslices', endpointSlice(plan.pods, plan.port));
  progress('pod sandboxes (pause processes in pod<uid> cgroups)');
  const sandboxes = await startPodSandboxes(plan.pods, cgroupRoot);
  cleanup.cgroups.push(sandboxes.parent);
  const started = Date.now();
  progress('endpoint-controller, and ipvs-controller on both directors');
  await Promise.all([startEndpointController(procs, repo, kubeconfig), ...plan.directors.map((d) => startDirectorController(procs, repo, kubeconfig, d))]);
  const addresses = plan.pods.map((p) => p.address);
  progress('waiting for both directors\' tables');
  await eventually('both directors programmed', () => Promise.all(plan.directors.map(readDirectorTable)), (ts) => tablesShow(ts, addresses, () => 1));
  progress('waiting for the VIP on every pod\'s tunl0');
  for (const p of plan.pods) await eventually(`the VIP on ${p.name}'s tunl0`, () => tunl0Vips(p.netns), (v) => v.includes(`${plan.vip}/32`));
  progress('BIRD + vip-announcer on both directors');
  await Promise.all(plan.directors.map((d) => startDirectorAnnouncer(procs, repo, kubeconfig, lab, d, workDir)));
  progress('waiting for the router\'s ECMP route');
  await waitForVipNexthops(plan, plan.directors.map((d) => d.link.address), { timeoutMs: 120_000 });
  const upMs = Date.now() - started;
  // The pods' servers: on the VIP (DSR: the VIP is on tunl0) and on the pod address (east-west).
  progress('pod servers');
  await startPodServers(lab.topology);
  const podIpServers = await Promise.all(plan.pods.map((p) => startIdentityServers({ netns: p.netns, listeners: [{ name: p.name, address: p.address, port: plan.port, protocol: 'tcp' }], readyTimeoutMs: CHILD_READY_MS })));
  return { upMs, podIpServers };
}

export async function showDirectorTables(lab, checks, upMs) {
  const { plan } = lab;
  const tables = await Promise.all(plan.directors.map(readDirectorTable));
  const [one, two] = tables.map(tableLines);
  heading('2/6', 'Two directors, one table: ipvs-controller on each, Maglev (mh) with IPIP to the pods');
  note(`endpoint-controller put the VIP on every pod's tunl0; ipvs-controller programmed both directors; vip-announcer + BIRD announced it (${(upMs / 1000).toFixed(1)} s)`);
  console.log('');
  sideBySide(`director 1 (${plan.directors[0].netns})`, one, `director 2 (${plan.directors[1].netns})`, two);
  const routes = await readVipRoutes(plan);
  console.log('');
  note(`router: ${plan.vip}/32 via ${routes.flatMap((r) => r.nexthops).join(' and ')} (BGP, ECMP)`);
  checks.check('both directors hold the identical table', JSON.stringify(one) === JSON.stringify(two), `${one.length} lines each`);
  checks.check('every pod is a destination of both services on both directors', tablesShow(tables, plan.pods.map((p) => p.address), () => 1));
  checks.check('the router has one ECMP route through both directors', routes.some((r) => r.nexthops.length === plan.directors.length));
  return tables;
}

// Screen 6, continued: a LocalRedirectPolicy sends the Service's ClusterIP to the node-local
// pod; the status the resolver's elected agent wrote; then the pod turns not ready and one
// client loop falls back to the Service's pods without a failed connect, and comes back.
import { setTimeout as sleep } from 'node:timers/promises';
import { CLUSTER_IP, NAMESPACE, NODE, REDIRECT_POLICY, SERVICE, localRedirectPolicy } from './cluster.mjs';
import { setLocalPodReady } from './local-pod.mjs';
import { note, progress, shareBars, subheading } from './screens.mjs';
import { settle } from './wait.mjs';

/** The Lease that elects the resolver agent writing policy status (cgroup-resolver's POLICY_STATUS_LEASE in --status-namespace). */
const STATUS_LEASE = { name: 'balanced-policy-status', namespace: 'balanced-system' };
/** Time each phase of the loop runs at least once it is in place. */
const PHASE_MS = 2000;

const statusOf = (server) => server.store.get('localredirectpolicies', REDIRECT_POLICY)?.status ?? {};
const conditionOf = (status, type) => (status.conditions ?? []).find((c) => c.type === type);
const localPods = (status) => (status.nodes ?? []).find((n) => n.node === NODE)?.backends ?? 0;
/** Loop attempts per answering pod (failures per error code). */
const tally = (attempts) => {
  const out = {};
  for (const a of attempts) {
    const key = a.ok ? a.backend : `failed ${a.error}`;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
};
const tallyText = (attempts) => Object.entries(tally(attempts)).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k} ×${v}`).join(', ') || '(none)';

function printStatus(status) {
  for (const c of status.conditions ?? []) note(`  ${c.type.padEnd(11)} ${c.status.padEnd(6)} ${c.reason}: ${c.message}`);
  note(`  ${'nodes'.padEnd(11)} ${(status.nodes ?? []).map((n) => `${n.node}: ${n.backends} ready local pod(s)`).join(', ') || '(none listed)'}`);
}

/** `count` TCP connects to the ClusterIP from the client pod. */
const reach = (client, port, count) => client.tcp({ address: CLUSTER_IP, port, count, concurrency: 4 });
/** Every connect answered, only by `names`. */
const onlyBy = (names) => (r) => Object.keys(r.failures).length === 0 && Object.keys(r.counts).length > 0 && Object.keys(r.counts).every((k) => names.includes(k));

export async function showRedirect({ server, lab }, client, local, checks) {
  const { plan } = lab;
  const pods = plan.pods.map((p) => p.name);
  const n = 90;

  subheading(`LocalRedirectPolicy ${REDIRECT_POLICY}: ${NAMESPACE}/${SERVICE} → the node-local pod ${local.name}`);
  const created = Date.now();
  server.store.put('localredirectpolicies', localRedirectPolicy(plan.port));
  progress(`LocalRedirectPolicy ${REDIRECT_POLICY} created; waiting for the ClusterIP to go to ${local.name}`);
  const first = await settle(() => reach(client, plan.port, 20), onlyBy([local.name]), 60_000);
  const redirectMs = Date.now() - created;
  const r = await reach(client, plan.port, n);
  note(`policy (CRD from deploy/policy-crds.yaml): TCP to ${NAMESPACE}/${SERVICE}'s ClusterIP ${CLUSTER_IP}:${plan.port} → a ready pod labelled app=${local.name} on the client's node`);
  note(`${local.name}: ${local.address} on ${NODE} (netns ${local.netns}), not an endpoint of the Service; its processes sit in`);
  note(`  cgroup ${local.podCgroup.split('/').pop()} below the resolver's: the agent takes a local pod as a redirect`);
  note(`  backend only once it has found that cgroup (the pod's own connects are never redirected to itself)`);
  note(`the resolver redirected the ClusterIP ${(redirectMs / 1000).toFixed(1)} s after the policy was created; ${n} connections:`);
  console.log('');
  shareBars(r.counts, [...pods, local.name]);
  console.log('');
  checks.check(`every connection to the ClusterIP went to the node-local pod ${local.name}`, onlyBy([local.name])(first) && (r.counts[local.name] ?? 0) === n, `${JSON.stringify(r.counts)}, failures: ${JSON.stringify(r.failures)}`);
  checks.check('the client still sees the ClusterIP as its peer', (r.peers[`${CLUSTER_IP}:${plan.port}`] ?? 0) === n, JSON.stringify(r.peers));

  progress('waiting for the policy status');
  const status = await settle(
    () => statusOf(server),
    (s) => conditionOf(s, 'Accepted')?.status === 'True' && conditionOf(s, 'Programmed')?.status === 'True' && localPods(s) === 1,
    60_000,
  );
  const holder = server.store.get('leases', STATUS_LEASE.name, STATUS_LEASE.namespace)?.spec?.holderIdentity;
  note(`status.conditions as the resolver wrote them (the writer is the agent holding Lease ${STATUS_LEASE.namespace}/${STATUS_LEASE.name}: ${holder ?? 'nobody'}):`);
  printStatus(status);
  console.log('');
  checks.check('the policy is Accepted=True and Programmed=True', conditionOf(status, 'Accepted')?.status === 'True' && conditionOf(status, 'Programmed')?.status === 'True', (status.conditions ?? []).map((c) => `${c.type}=${c.status}`).join(' '));
  checks.check(`its status counts 1 ready local pod on ${NODE}`, localPods(status) === 1, JSON.stringify(status.nodes ?? null));
  checks.check(`the status writer is the resolver on ${NODE} (it holds the Lease)`, holder === NODE, String(holder));

  await showFallback({ server, plan, pods }, client, local, checks);
}

/** One client loop while the local pod turns not ready and ready again. */
async function showFallback({ server, plan, pods }, client, local, checks) {
  subheading(`Fallback: ${local.name} turns not ready, then ready again, while one client loop connects`);
  const loop = await client.startLoop({ address: CLUSTER_IP, port: plan.port, timeoutMs: 2000, intervalMs: 10, maxMs: 900_000 });
  const marks = {};
  let during;
  let result;
  try {
    await sleep(PHASE_MS);
    marks.notReady = Date.now();
    setLocalPodReady(server, local, plan.port, false);
    progress(`${local.name} not ready; waiting for the fallback`);
    const fallback = await settle(() => reach(client, plan.port, 20), onlyBy(pods), 60_000);
    marks.fallbackSeen = Date.now();
    during = await settle(() => statusOf(server), (s) => localPods(s) === 0 && conditionOf(s, 'Programmed')?.status === 'True', 60_000);
    await sleep(Math.max(0, marks.fallbackSeen + PHASE_MS - Date.now()));
    marks.ready = Date.now();
    setLocalPodReady(server, local, plan.port, true);
    progress(`${local.name} ready again; waiting for the redirect`);
    const back = await settle(() => reach(client, plan.port, 20), onlyBy([local.name]), 60_000);
    marks.backSeen = Date.now();
    await sleep(PHASE_MS);
    marks.fallbackProbe = fallback;
    marks.backProbe = back;
  } finally {
    result = await loop.stop();
  }
  const at = (a) => result.origin + a.t;
  const attempts = result.timeline;
  const before = attempts.filter((a) => at(a) < marks.notReady);
  const switching = attempts.filter((a) => at(a) >= marks.notReady && at(a) <= marks.fallbackSeen);
  const fellBack = attempts.filter((a) => at(a) > marks.fallbackSeen && at(a) < marks.ready);
  const returning = attempts.filter((a) => at(a) >= marks.ready && at(a) <= marks.backSeen);
  const after = attempts.filter((a) => at(a) > marks.backSeen);
  const failed = attempts.filter((a) => !a.ok);
  const firstOff = switching.concat(fellBack).find((a) => a.ok && a.backend !== local.name);
  const firstBack = returning.concat(after).find((a) => a.ok && a.backend === local.name);
  const since = (ms) => `+${((ms - result.origin) / 1000).toFixed(1).padStart(5)} s`;
  note(`${since(result.origin)}  loop starts: one TCP connect to ${CLUSTER_IP}:${plan.port} after another (10 ms apart), from the same client pod`);
  note(`${since(marks.notReady)}  ${local.name} Ready=False (its Pod status, as the kubelet writes it)`);
  if (firstOff) note(`${since(at(firstOff))}  first connect answered by a Service pod (${firstOff.backend}): the resolver reacted in ${((at(firstOff) - marks.notReady) / 1000).toFixed(2)} s`);
  note(`${since(marks.ready)}  ${local.name} Ready=True again`);
  if (firstBack) note(`${since(at(firstBack))}  first connect answered by ${local.name} again, ${((at(firstBack) - marks.ready) / 1000).toFixed(2)} s later`);
  note(`${since(result.origin + result.ms)}  loop stopped: ${attempts.length} connects, ${failed.length} failed`);
  console.log('');
  note(`before:             ${tallyText(before)}`);
  note(`switching:          ${tallyText(switching)}`);
  note(`${local.name} not ready: ${tallyText(fellBack)}`);
  note(`switching back:     ${tallyText(returning)}`);
  note(`ready again:        ${tallyText(after)}`);
  note(`status meanwhile (not ready): Programmed ${conditionOf(during, 'Programmed')?.status ?? '?'}: ${conditionOf(during, 'Programmed')?.message ?? '(none)'}`);
  console.log('');
  const onlyOn = (list, names) => list.length > 0 && list.every((a) => a.ok && names.includes(a.backend));
  checks.check('no connect of the loop failed', failed.length === 0 && attempts.length > 0, `${attempts.length} connects, ${failed.length} failed${failed.length ? `: ${tallyText(failed)}` : ''}`);
  checks.check(`until ${local.name} turned not ready, every connect went to it`, onlyOn(before, [local.name]), tallyText(before));
  checks.check(`while ${local.name} was not ready, the connects went to the Service's pods`, onlyOn(fellBack, pods) && onlyBy(pods)(marks.fallbackProbe), tallyText(fellBack));
  checks.check(`once ready again, every connect went back to ${local.name}`, onlyOn(after, [local.name]) && onlyBy([local.name])(marks.backProbe), tallyText(after));
  checks.check(`the status followed: 0 ready local pods on ${NODE} while it was not ready`, localPods(during) === 0 && conditionOf(during, 'Programmed')?.status === 'True', JSON.stringify(during.nodes ?? null));
}

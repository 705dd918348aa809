import type { ExplainOptions } from '../commands/explain.js';
import { destinationKeyString, serviceKeyString, type ServiceKey } from '@balanced/ipvs';
import type { ActualService, ModelService } from '@balanced/ipvs-controller';
import { readKernelMhConfig } from '@balanced/maglev';
import type { MapsDump, Protocol } from '@balanced/cgroup-resolver';
import type { ClusterObjects } from '../cluster-objects.js';
import { directorDesired, directorPlan, modelOf, readIpvs } from '../director.js';
import { formatHostPort, parseHostPort } from '../endpoint-arg.js';
import { CliError, UsageError } from '../errors.js';
import type { CliIo } from '../io.js';
import { explainMh } from '../mh-explain.js';
import { vipOwnership } from '../ownership.js';
import { withProgress } from '../progress.js';
import { explainResolver } from '../resolver-explain.js';
import { standInPodCgroups } from '../pod-cgroups.js';
import { serviceNames } from '../resolver-names.js';
import { EMPTY_DUMP, readPinnedMaps, resolverDesired, resolverPlan } from '../resolver.js';
import { readSource } from '../source.js';
import { renderTable, toJson } from '../table.js';

async function explainDirectorAction(io: CliIo, o: ExplainOptions, objects: ClusterObjects | undefined, key: ServiceKey & { address: string }, client: { address: string; port: number | undefined }): Promise<void> {
  const actual: ActualService[] = o.empty === true ? [] : await withProgress(io, 'reading IPVS', () => readIpvs(o.netns));
  const lastWeights = parseLastWeights(o.lastWeight ?? []);
  let table: readonly ModelService[];
  let which: 'live' | 'planned';
  if (objects !== undefined) {
    const own = vipOwnership(o.vipCidr ?? [], objects);
    const settings = { ownsVip: own.ownsVip, defaultClass: o.defaultClass, drainSeconds: o.drainSeconds };
    const desired = directorDesired(objects, settings);
    table = directorPlan(desired.services, actual, settings, Date.now()).after;
    which = 'planned';
  } else {
    table = modelOf(actual, [], lastWeights);
    which = 'live';
  }
  const id = serviceKeyString(key);
  const service = table.find((s) => serviceKeyString(s.service.key) === id);
  if (service === undefined) throw new CliError(`no virtual service ${id} in the ${which} table`);
  if (which === 'live') {
    const unknown = service.destinations.filter((d) => d.weight === 0 && d.lastWeight === 0 && !lastWeights.has(destinationKeyString(d)));
    if (unknown.length > 0) {
      throw new CliError(
        `${unknown.map((d) => destinationKeyString(d)).join(', ')}: weight 0 in the live table, and the dump does not say its last_weight (which the mh table is built with); give --last-weight <address:port=weight>, or the cluster state (-f/--kubeconfig)`,
      );
    }
  }
  const tabIndex = o.tabIndex ?? (await readKernelMhConfig()).tabIndex;
  const answer = explainMh(service.service, service.destinations, client.address, client.port, tabIndex);
  const clientText = client.port !== undefined ? formatHostPort(client.address, client.port) : client.address;
  if (o.json === true) {
    io.out(toJson({ service: id, table: which, scheduler: service.service.scheduler, client: { address: client.address, port: client.port ?? null }, ...answer }));
    return;
  }
  const flags = [answer.flags.mhFallback ? 'mh-fallback' : '', answer.flags.mhPort ? 'mh-port' : ''].filter(Boolean).join(',') || 'none';
  io.out(
    `${id}: ${which} table, scheduler mh (flags ${flags}), M = ${answer.tableSize}\n` +
      renderTable(
        ['#', 'DESTINATION', 'WEIGHT', 'LAST_WEIGHT', 'SLOTS'],
        answer.destinations.map((d, i) => [String(i + 1), d.destination, String(d.weight), String(d.lastWeight), String(d.slots)]),
      ) +
      (answer.probes.length > 0 ? `probes:\n${answer.probes.map((p, i) => `  ${i === 0 ? 'slot' : `probe ${i}`} ${p.slot}: ${p.destination ?? '(empty)'}${p.unavailable !== null ? ` — ${p.unavailable}` : ''}\n`).join('')}` : '') +
      `client ${clientText} -> ${answer.chosen?.destination ?? 'DROPPED'}\n  ${answer.reason}\n`,
  );
}

async function explainResolverAction(io: CliIo, o: ExplainOptions, objects: ClusterObjects | undefined, address: string, port: number): Promise<void> {
  const protocol: Protocol = o.protocol === 'udp' ? 'UDP' : 'TCP';
  let node = o.node;
  let podName: string | undefined;
  let clientCgroups: readonly bigint[] = [];
  if (o.pod !== undefined) {
    const [ns, name, ...rest] = o.pod.split('/');
    if (ns === undefined || name === undefined || ns === '' || name === '' || rest.length > 0) throw new UsageError(`--pod ${JSON.stringify(o.pod)}: write namespace/name`);
    podName = `${ns}/${name}`;
    if (objects !== undefined) {
      const pod = objects.pods.find((p) => p.metadata?.namespace === ns && p.metadata?.name === name);
      if (pod === undefined) throw new CliError(`pod ${podName} is not in the cluster state`);
      const podNode = pod.spec?.nodeName;
      if (node !== undefined && podNode !== undefined && podNode !== node) throw new UsageError(`--node ${node} but pod ${podName} runs on ${podNode}`);
      node = podNode ?? node;
      clientCgroups = standInPodCgroups(pod.metadata?.uid ?? '') ?? [];
    }
  }
  let dump: MapsDump;
  let names = new Map<number, string>();
  let which: 'live' | 'planned';
  if (objects !== undefined) {
    const base = o.empty === true ? EMPTY_DUMP : readPinnedMaps(o.pinRoot);
    const planned = resolverPlan(resolverDesired(objects, node), base);
    dump = planned.after;
    names = serviceNames(planned.plan);
    which = 'planned';
  } else {
    dump = readPinnedMaps(o.pinRoot);
    which = 'live';
  }
  const answer = explainResolver(dump, address, port, protocol, names, clientCgroups);
  const context = { maps: which, node: node ?? null, pod: podName ?? null };
  if (o.json === true) {
    io.out(toJson({ ...context, ...answer }));
    return;
  }
  const lines = [`${answer.target} from ${podName !== undefined ? `pod ${podName}` : 'a client'} on ${node !== undefined ? `node ${node}` : which === 'live' ? 'this host' : 'a host outside the cluster'} (${which} maps)`];
  for (const f of answer.frontends) {
    const what = f.policy !== null ? `: ${f.policy.kind} ${f.policy.name} (service ${f.serviceId})` : ` -> ${f.service ?? `service ${f.serviceId}`}`;
    const notes = [
      f.refuseWhenEmpty ? ' (refuses when empty)' : '',
      f.affinityTimeoutSeconds !== null ? ` (ClientIP affinity ${f.affinityTimeoutSeconds} s)` : '',
      f.skipCgroups > 0 ? ` (skips ${f.skipCgroups} client cgroup${f.skipCgroups === 1 ? '' : 's'}: its own backend pods)` : '',
    ].join('');
    lines.push(`  ${f.kind} frontend${what} [${f.outcome}]${notes}`);
    if (f.backends.length > 0) {
      lines.push(
        renderTable(['    BACKEND', 'ID', 'LOCAL', 'SLOTS', 'SHARE'], f.backends.map((b) => [`    ${b.backend}`, String(b.id), b.local ? 'yes' : 'no', String(b.slots), `${(b.share * 100).toFixed(1)}%`])).trimEnd(),
      );
    }
  }
  lines.push(`result: ${answer.result}: ${answer.reason}`);
  io.out(lines.join('\n') + '\n');
}

function parseLastWeights(list: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const item of list) {
    const at = item.lastIndexOf('=');
    const weight = Number(item.slice(at + 1));
    if (at === -1 || !/^\d+$/.test(item.slice(at + 1)) || weight === 0) throw new UsageError(`--last-weight ${JSON.stringify(item)}: write address:port=weight (weight > 0)`);
    const hp = parseHostPort(item.slice(0, at), '--last-weight');
    if (hp.port === undefined) throw new UsageError(`--last-weight ${JSON.stringify(item)}: the destination needs a port`);
    out.set(destinationKeyString({ address: hp.address, port: hp.port }), weight);
  }
  return out;
}

export async function runExplain(io: CliIo, targetText: string, clientText: string | undefined, o: ExplainOptions): Promise<void> {
  const target = parseHostPort(targetText, 'target');
  if (target.port === undefined) throw new UsageError(`target ${JSON.stringify(targetText)}: give a port (address:port)`);
  const objects = await readSource(io, o);
  if (o.empty === true && objects === undefined) throw new UsageError('--empty needs the cluster state (--kubeconfig or -f) to plan from');
  if (o.resolver === true) await explainResolverAction(io, o, objects, target.address, target.port);
  else {
    if (clientText === undefined) throw new UsageError('explain <vip:port> <client[:port]>: the client is missing');
    await explainDirectorAction(io, o, objects, { protocol: o.protocol, address: target.address, port: target.port }, parseHostPort(clientText, 'client'));
  }
}

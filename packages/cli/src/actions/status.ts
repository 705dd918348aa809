import { STATUS_COMPONENTS, type StatusOptions } from '../commands/status.js';
import { componentList } from '../options.js';
import { destinationKeyString, serviceKeyString, type Stats } from '@balanced/ipvs';
import type { ActualService } from '@balanced/ipvs-controller';
import type { MapsDump } from '@balanced/cgroup-resolver';
import { readAnnouncer, type AnnouncerStatus } from '../bird-status.js';
import { readIpvs } from '../director.js';
import { formatHostPort } from '../endpoint-arg.js';
import { CliError, ReportedFailure, UsageError } from '../errors.js';
import type { CliIo } from '../io.js';
import { nameIndex, type NameIndex } from '../names.js';
import { withProgress } from '../progress.js';
import { readPinnedMaps, slotCounts } from '../resolver.js';
import { readSource } from '../source.js';
import { renderTable, toJson } from '../table.js';

type Component = (typeof STATUS_COMPONENTS)[number];

interface Section {
  readonly json: unknown;
  readonly text: string;
}

async function statusSection(io: CliIo, c: Component, o: StatusOptions, names: NameIndex): Promise<Section> {
  switch (c) {
    case 'ipvs':
      return ipvsSection(await withProgress(io, 'reading IPVS', () => readIpvs(o.netns)), names, o.netns);
    case 'resolver':
      return resolverSection(readPinnedMaps(o.pinRoot), names, o.pinRoot);
    case 'bird':
      return birdSection(await withProgress(io, 'asking BIRD', () => readAnnouncer(o.birdSocket, o.timeout * 1000)), o.birdSocket);
  }
}

function counters(s: { stats64: Stats | undefined; stats: Stats | undefined }): Stats | undefined {
  return s.stats64 ?? s.stats;
}

function ipvsSection(table: readonly ActualService[], names: NameIndex, netns: string | undefined): Section {
  const json = table.map((a) => {
    const key = a.service.key;
    const name = 'fwmark' in key ? undefined : names.service(key.protocol, key.address, key.port);
    return {
      service: serviceKeyString(key),
      kubernetes: name ?? null,
      scheduler: a.service.scheduler,
      flags: a.service.flags,
      stats: counters(a.service) ?? null,
      destinations: a.destinations.map((d) => ({
        destination: destinationKeyString(d),
        pod: names.pod(d.address) ?? null,
        forwarding: d.forwarding,
        weight: d.weight,
        activeConnections: d.activeConnections,
        inactiveConnections: d.inactiveConnections,
        stats: counters(d) ?? null,
      })),
    };
  });
  const rows: string[][] = [];
  for (const s of json) {
    rows.push([s.service, s.kubernetes ?? '', s.scheduler, '', '', '', String(s.stats?.connections ?? ''), String(s.stats?.packetsIn ?? ''), String(s.stats?.bytesIn ?? '')]);
    for (const d of s.destinations) {
      rows.push([`  -> ${d.destination}`, d.pod ?? '', d.forwarding, String(d.weight), String(d.activeConnections), String(d.inactiveConnections), String(d.stats?.connections ?? ''), String(d.stats?.packetsIn ?? ''), String(d.stats?.bytesIn ?? '')]);
    }
  }
  return {
    json: { netns: netns ?? null, services: json },
    text: `IPVS${netns !== undefined ? ` in ${netns}` : ''}: ${json.length} virtual services (destinations in kernel list order)\n` + (rows.length > 0 ? renderTable(['SERVICE', 'KUBERNETES', 'SCHED/FWD', 'WEIGHT', 'ACTIVE', 'INACTIVE', 'CONNS', 'PKTS_IN', 'BYTES_IN'], rows) : ''),
  };
}

function resolverSection(dump: MapsDump, names: NameIndex, pinRoot: string): Section {
  const services = [...dump.services].sort((a, b) => a[0] - b[0]).map(([id, t]) => {
    const counts = slotCounts(t.backendIds, t.slots);
    return {
      id,
      flags: t.flags,
      affinityTimeoutSeconds: t.affinityTimeoutSeconds,
      revision: t.revision,
      tableSize: t.slots.length,
      frontends: dump.frontends
        .filter((f) => f.serviceId === id)
        .map((f) => ({ frontend: `${formatHostPort(f.address, f.port)}/${f.protocol}`, kind: f.kind, kubernetes: names.service(f.protocol, f.address, f.port) ?? null })),
      backends: t.backendIds.map((b) => {
        const e = dump.backends.get(b);
        return { id: b, backend: e !== undefined ? formatHostPort(e.address, e.port) : null, local: e?.local ?? false, pod: e !== undefined ? (names.pod(e.address) ?? null) : null, slots: counts[String(b)] ?? 0 };
      }),
    };
  });
  const lines: string[] = [`resolver maps under ${pinRoot}: ${dump.frontends.length} frontends, ${dump.services.size} services, ${dump.backends.size} backends`];
  for (const s of services) {
    const fronts = s.frontends.map((f) => `${f.frontend} ${f.kind}${f.kubernetes !== null ? ` (${f.kubernetes})` : ''}`).join(', ') || '(no frontend)';
    lines.push(`service ${s.id}: ${fronts}; M = ${s.tableSize}, revision ${s.revision}, flags 0x${s.flags.toString(16)}`);
    for (const b of s.backends) lines.push(`  -> ${b.backend ?? `backend ${b.id} (missing)`}${b.local ? ' local' : ''}${b.pod !== null ? ` ${b.pod}` : ''}: ${b.slots} slots`);
  }
  return { json: { pinRoot, services, frontends: dump.frontends, backends: Object.fromEntries(dump.backends) }, text: lines.join('\n') + '\n' };
}

function birdSection(s: AnnouncerStatus, socket: string): Section {
  const lines = [`BIRD at ${socket}: ${s.bird.version}${s.bird.routerId !== undefined ? `, router id ${s.bird.routerId}` : ''}; ${s.announced.length} VIPs announced`];
  for (const p of s.announced) lines.push(`  ${p}`);
  if (s.peers.length > 0) lines.push(renderTable(['PEER', 'STATE', 'INFO'], s.peers.map((p) => [p.name, p.state, p.info])).trimEnd());
  else lines.push('  no balanced_peer_* BGP sessions');
  return { json: { socket, ...s }, text: lines.join('\n') + '\n' };
}

export async function runStatus(io: CliIo, o: StatusOptions): Promise<void> {
  const explicit = o.component !== undefined;
  const components = componentList<Component>(o.component, STATUS_COMPONENTS, '--component');
  const names = nameIndex(await readSource(io, o));
  const sections: Partial<Record<Component, Section>> = {};
  let failed = false;
  for (const c of components) {
    try {
      sections[c] = await statusSection(io, c, o, names);
    } catch (e) {
      if (!(e instanceof CliError) || e instanceof UsageError) throw e;
      if (explicit) failed = true;
      sections[c] = { json: { unavailable: e.message }, text: `${c}: unavailable: ${e.message}\n` };
    }
  }
  if (o.json === true) io.out(toJson(Object.fromEntries(Object.entries(sections).map(([k, s]) => [k, s.json]))));
  else io.out(Object.values(sections).map((s) => s.text).join('\n'));
  if (failed) throw new ReportedFailure();
}

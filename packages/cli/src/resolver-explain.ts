import { FRONTEND_KINDS, SVC_F_AFFINITY, SVC_F_REFUSE_EMPTY, type FrontendKind, type MapsDump, type Protocol } from '@balanced/cgroup-resolver';
import { formatHostPort } from './endpoint-arg.js';
import { slotCounts } from './resolver.js';

export interface ResolverBackendRow {
  readonly id: number;
  readonly backend: string;
  readonly local: boolean;
  /** Slots of the service's Maglev table: a TCP connect picks a slot at random, so this is its share. */
  readonly slots: number;
  readonly share: number;
}

export interface ResolverFrontendRow {
  readonly kind: FrontendKind;
  readonly serviceId: number;
  /** The backend set's key (e.g. `default/web:http/TCP cluster`) when known. */
  readonly service: string | null;
  readonly backends: readonly ResolverBackendRow[];
  readonly refuseWhenEmpty: boolean;
  readonly affinityTimeoutSeconds: number | null;
  /** What the hook does with this frontend. */
  readonly outcome: 'resolves' | 'refuses' | 'passes' | 'not reached';
}

export interface ResolverAnswer {
  readonly target: string;
  readonly protocol: Protocol;
  /** Frontends on this address in lookup order (redirect, balancing, service). */
  readonly frontends: readonly ResolverFrontendRow[];
  readonly result: 'resolved' | 'refused' | 'not intercepted';
  readonly reason: string;
}

/**
 * What the resolver's connect/sendmsg hook does for a connection to `address:port`: it looks
 * the frontend up kind by kind (redirect, then balancing, then the Service); a frontend whose
 * service has backends resolves (TCP: a random slot of its Maglev table; UDP: by socket
 * cookie), an empty one refuses with ECONNREFUSED when its service says so, else the next
 * kind is tried; no frontend: the connection goes out as addressed.
 */
export function explainResolver(dump: MapsDump, address: string, port: number, protocol: Protocol, names: ReadonlyMap<number, string>): ResolverAnswer {
  const target = `${formatHostPort(address, port)}/${protocol}`;
  const matching = dump.frontends
    .filter((f) => f.address === address && f.port === port && f.protocol === protocol)
    .sort((a, b) => FRONTEND_KINDS.indexOf(a.kind) - FRONTEND_KINDS.indexOf(b.kind));
  const rows: ResolverFrontendRow[] = [];
  let result: ResolverAnswer['result'] = 'not intercepted';
  let reason = `no frontend on ${target}: the hook leaves the connection as addressed`;
  for (const f of matching) {
    const table = dump.services.get(f.serviceId);
    const ids = table?.backendIds ?? [];
    const counts = table !== undefined ? slotCounts(ids, table.slots) : {};
    const total = table?.slots.length ?? 0;
    const backends = ids.map((id) => {
      const b = dump.backends.get(id);
      const slots = counts[String(id)] ?? 0;
      return { id, backend: b !== undefined ? formatHostPort(b.address, b.port) : `backend ${id} (missing)`, local: b?.local ?? false, slots, share: total > 0 ? slots / total : 0 };
    });
    const refuse = ((table?.flags ?? 0) & SVC_F_REFUSE_EMPTY) !== 0;
    let outcome: ResolverFrontendRow['outcome'] = 'not reached';
    if (result === 'not intercepted') {
      const name = names.get(f.serviceId) ?? `service ${f.serviceId}`;
      if (ids.length > 0) {
        outcome = 'resolves';
        result = 'resolved';
        reason = `${f.kind} frontend -> ${name}: ${ids.length} backend(s); ${protocol === 'TCP' ? 'each connect takes a random slot of the Maglev table' : 'each socket keeps the backend its cookie hashes to'}`;
      } else if (refuse) {
        outcome = 'refuses';
        result = 'refused';
        reason = `${f.kind} frontend -> ${name} has no backend: connect()/sendmsg() fail with ECONNREFUSED`;
      } else {
        outcome = 'passes';
      }
    }
    rows.push({
      kind: f.kind,
      serviceId: f.serviceId,
      service: names.get(f.serviceId) ?? null,
      backends,
      refuseWhenEmpty: refuse,
      affinityTimeoutSeconds: ((table?.flags ?? 0) & SVC_F_AFFINITY) !== 0 ? (table?.affinityTimeoutSeconds ?? 0) : null,
      outcome,
    });
  }
  return { target, protocol, frontends: rows, result, reason };
}

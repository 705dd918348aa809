import { FRONTEND_KINDS, SVC_F_AFFINITY, SVC_F_REFUSE_EMPTY, type FrontendKind, type MapsDump, type Protocol } from '@balanced/cgroup-resolver';
import { formatHostPort } from './endpoint-arg.js';
import { policyOfServiceKey, type PolicyRef } from './resolver-names.js';
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
  /** The policy whose frontend this is (redirect, balancing), when the key is known. */
  readonly policy: PolicyRef | null;
  /** Client cgroups this service is not used for (a LocalRedirectPolicy's own backend pods). */
  readonly skipCgroups: number;
  readonly backends: readonly ResolverBackendRow[];
  readonly refuseWhenEmpty: boolean;
  readonly affinityTimeoutSeconds: number | null;
  /**
   * What the hook does with this frontend: resolves to a backend, refuses (ECONNREFUSED), passes
   * to the next kind (no backend and does not refuse: a LocalRedirectPolicy's fallback), skips
   * this client (it is one of the frontend's own backends), or is not reached.
   */
  readonly outcome: 'resolves' | 'refuses' | 'passes' | 'skips client' | 'not reached';
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
 * the frontend up kind by kind (redirect, then balancing, then the Service); a service that
 * lists one of the client's cgroups in its skip list is passed over (a LocalRedirectPolicy's
 * backend pod reaches the Service, never itself); a frontend whose service has backends
 * resolves (TCP: a random slot of its Maglev table; UDP: by socket cookie), an empty one
 * refuses with ECONNREFUSED when its service says so, else the next kind is tried; no
 * frontend: the connection goes out as addressed. `clientCgroups`: the client pod's cgroup ids
 * (unknown: none).
 */
export function explainResolver(dump: MapsDump, address: string, port: number, protocol: Protocol, names: ReadonlyMap<number, string>, clientCgroups: readonly bigint[] = []): ResolverAnswer {
  const target = `${formatHostPort(address, port)}/${protocol}`;
  const matching = dump.frontends
    .filter((f) => f.address === address && f.port === port && f.protocol === protocol)
    .sort((a, b) => FRONTEND_KINDS.indexOf(a.kind) - FRONTEND_KINDS.indexOf(b.kind));
  const rows: ResolverFrontendRow[] = [];
  let result: ResolverAnswer['result'] = 'not intercepted';
  let reason = `no frontend on ${target}: the hook leaves the connection as addressed`;
  /** Why earlier frontends on this address were passed over, for the reason of the one that answers. */
  const passed: string[] = [];
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
    const skip = table?.skipCgroups ?? [];
    const key = names.get(f.serviceId);
    let outcome: ResolverFrontendRow['outcome'] = 'not reached';
    if (result === 'not intercepted') {
      const name = key ?? `service ${f.serviceId}`;
      const why = passed.length > 0 ? ` (${passed.join('; ')})` : '';
      if (clientCgroups.some((c) => skip.includes(c))) {
        outcome = 'skips client';
        passed.push(`the ${f.kind} frontend skips this client, one of its own backends`);
      } else if (ids.length > 0) {
        outcome = 'resolves';
        result = 'resolved';
        reason = `${f.kind} frontend -> ${name}: ${ids.length} backend(s); ${protocol === 'TCP' ? 'each connect takes a random slot of the Maglev table' : 'each socket keeps the backend its cookie hashes to'}${why}`;
      } else if (refuse) {
        outcome = 'refuses';
        result = 'refused';
        reason = `${f.kind} frontend -> ${name} has no backend: connect()/sendmsg() fail with ECONNREFUSED${why}`;
      } else {
        outcome = 'passes';
        passed.push(`the ${f.kind} frontend has no backend and falls back`);
      }
    }
    rows.push({
      kind: f.kind,
      serviceId: f.serviceId,
      service: key ?? null,
      policy: key !== undefined ? (policyOfServiceKey(key) ?? null) : null,
      skipCgroups: skip.length,
      backends,
      refuseWhenEmpty: refuse,
      affinityTimeoutSeconds: ((table?.flags ?? 0) & SVC_F_AFFINITY) !== 0 ? (table?.affinityTimeoutSeconds ?? 0) : null,
      outcome,
    });
  }
  if (result === 'not intercepted' && passed.length > 0) reason = `no frontend on ${target} answers (${passed.join('; ')}): the hook leaves the connection as addressed`;
  return { target, protocol, frontends: rows, result, reason };
}

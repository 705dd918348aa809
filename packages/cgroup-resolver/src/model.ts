// The resolver's model, shared by the desired-state builder (what the cluster asks for),
// the dump (what the pinned maps hold) and the planner (the ordered writes between them).
// Addresses are text as ipaddr.js prints them: IPv4 dotted quad, IPv6 canonical (RFC 5952,
// lower case). An IPv4 address is never written in its IPv4-mapped IPv6 form here; the
// codec maps it to ::ffff:a.b.c.d for the kernel (bpf/resolver.h).

export type Protocol = 'TCP' | 'UDP';

/** Lookup order in the hooks: redirect, then balancing, then the Service. */
export type FrontendKind = 'redirect' | 'balancing' | 'service';

export const FRONTEND_KINDS: readonly FrontendKind[] = ['redirect', 'balancing', 'service'];

/** An address + port + protocol a client connects or sends to, resolved to one service. */
export interface DesiredFrontend {
  readonly address: string;
  readonly port: number;
  readonly protocol: Protocol;
  readonly kind: FrontendKind;
  /** Key of the {@link DesiredService} this frontend resolves to. */
  readonly service: string;
}

export interface DesiredBackend {
  readonly address: string;
  readonly port: number;
  /** Maglev weight: integer ≥ 0 (0 = known, no slots). */
  readonly weight: number;
  /** The backend runs on this node. */
  readonly local: boolean;
}

export interface ServiceOptions {
  /** ClientIP affinity timeout in seconds; undefined = no affinity. */
  readonly affinityTimeoutSeconds?: number;
  /** No backend ⇒ connect()/sendmsg() fail with ECONNREFUSED (else the next frontend kind is tried). */
  readonly refuseWhenEmpty: boolean;
  /** Only this node's endpoints were taken (internalTrafficPolicy: Local). Informational. */
  readonly localOnly: boolean;
}

/**
 * One resolvable backend set: a Service port as seen through one kind of frontend
 * (ClusterIP and NodePort frontends of one port may have different sets), or a policy's.
 */
export interface DesiredService {
  /** Stable, unique, human-readable, e.g. `default/web:http/TCP cluster`. */
  readonly key: string;
  /** Any order; the table is built in the Maglev instance's own (sorted) order. */
  readonly backends: readonly DesiredBackend[];
  readonly options: ServiceOptions;
  /**
   * cgroup v2 ids (cgroup folder inode numbers) of clients NOT resolved through this service:
   * their connect/sendmsg goes on to the next frontend kind. A LocalRedirectPolicy service
   * lists the pod-level cgroups of its own backend pods on this node (a redirect backend is
   * never redirected to itself). Sorted ascending, no repeats, at most MAX_SKIP_CGROUPS
   * (maps/layout.ts): the builder keeps the first ones in sorted order and reports a refusal.
   * Absent = none.
   */
  readonly skipCgroups?: readonly bigint[];
}

/** Something in the cluster that could not be resolved as asked (becomes a log line and an Event). */
export interface ResolverRefusal {
  readonly object: { readonly kind: string; readonly namespace?: string; readonly name: string };
  readonly reason: string;
  readonly message: string;
  /** FrontendConflict: the frontend (`address:port/protocol`, IPv6 in brackets) and the older owner that holds it. */
  readonly held?: { readonly frontend: string; readonly by: { readonly kind: string; readonly namespace?: string; readonly name: string } };
}

export interface DesiredState {
  /** By key. */
  readonly services: ReadonlyMap<string, DesiredService>;
  /** At most one per (address, port, protocol, kind). Every `service` is a key of `services`. */
  readonly frontends: readonly DesiredFrontend[];
  readonly refusals: readonly ResolverRefusal[];
}

// ---- what the pinned maps hold (numeric ids are the maps' own) ----

export interface FrontendEntry {
  readonly address: string;
  readonly port: number;
  readonly protocol: Protocol;
  readonly kind: FrontendKind;
  readonly serviceId: number;
}

export interface BackendEntry {
  readonly address: string;
  readonly port: number;
  readonly local: boolean;
}

/**
 * A Maglev table's slots: bytes when every index fits (at most 256 backends, nearly every
 * Service: half the memory of a table the agent keeps for each Service), else u16 as in the map.
 */
export type SlotArray = Uint8Array | Uint16Array;

/** Zeroed slots for a table of `size` slots over `backends` backends, in the width SlotArray says. */
export function newSlotArray(backends: number, size: number): SlotArray {
  return backends <= 256 ? new Uint8Array(size) : new Uint16Array(size);
}

/** One service's inner map, decoded (bpf/resolver.h, "service tables"). */
export interface ServiceTable {
  /** Backend ids in the order the Maglev slots index. */
  readonly backendIds: readonly number[];
  /** Maglev table: index into backendIds per slot; length = table size (0 when no backend). */
  readonly slots: SlotArray;
  readonly flags: number;
  readonly affinityTimeoutSeconds: number;
  readonly revision: number;
  /** Clients' cgroup ids not resolved through this table, ascending ([] = none). */
  readonly skipCgroups: readonly bigint[];
}

export interface MapsDump {
  readonly frontends: readonly FrontendEntry[];
  readonly services: ReadonlyMap<number, ServiceTable>;
  readonly backends: ReadonlyMap<number, BackendEntry>;
}

// ---- the planner's output: applied in this order (DESIGN.md "publish order") ----

export type MapOp =
  | { readonly op: 'backend-put'; readonly id: number; readonly backend: BackendEntry }
  /** Build a complete inner map, then swap it in (one atomic outer-map update). */
  | { readonly op: 'service-put'; readonly id: number; readonly key: string; readonly table: ServiceTable }
  | { readonly op: 'frontend-put'; readonly frontend: FrontendEntry }
  | { readonly op: 'frontend-delete'; readonly frontend: FrontendEntry }
  | { readonly op: 'service-delete'; readonly id: number }
  | { readonly op: 'backend-delete'; readonly id: number };

/** Order of op kinds in every plan: a reader never sees a frontend whose service is missing, nor a slot naming a missing backend. */
export const PUBLISH_ORDER: readonly MapOp['op'][] = [
  'backend-put',
  'service-put',
  'frontend-put',
  'frontend-delete',
  'service-delete',
  'backend-delete',
];

/** A backend that left a service: sockets resolved to it through that service are closed. */
export interface RemovedBackend {
  readonly serviceId: number;
  readonly address: string;
  readonly port: number;
}

export interface Plan {
  readonly ops: readonly MapOp[];
  readonly removed: readonly RemovedBackend[];
  /** Service key → id, for every desired service (diagnostics, events, CLI). */
  readonly serviceIds: ReadonlyMap<string, number>;
}

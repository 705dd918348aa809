import { destinationKeyString, serviceKeyString, type Destination, type DestinationSpec, type IpvsOperation, type Service } from '@balanced/ipvs';
import { parseIp } from '@balanced/netlink';
import type { ActualService } from './model.js';

/** One destination as the kernel keeps it, including the last_weight the dump hides. */
export interface ModelDestination extends Destination {
  readonly lastWeight: number;
}

export interface ModelService {
  readonly service: Service;
  readonly destinations: readonly ModelDestination[];
}

export class ModelError extends Error {
  override readonly name = 'ModelError';
  constructor(readonly errno: 'ESRCH' | 'ENOENT' | 'EEXIST', message: string) {
    super(message);
  }
}

/**
 * A pure model of the kernel's IPVS list semantics, for plan tests and dry runs: a new
 * service goes last in the dump, a new destination goes to the head of its list, an edit
 * stays in place, last_weight follows the kernel (set on add, kept when weight becomes 0).
 * Connection counts are kept as they were (0 for new destinations).
 */
export function applyToModel(state: readonly ModelService[], ops: readonly IpvsOperation[]): ModelService[] {
  // Copy-on-write: only services an op touches get a fresh destination array.
  const services: { service: Service; destinations: ModelDestination[] }[] = state.map((s) => ({ service: s.service, destinations: s.destinations as ModelDestination[] }));
  const copied = new Set<number>();
  let index: Map<string, number> | undefined;
  const find = (key: Parameters<typeof serviceKeyString>[0]): number => {
    if (!index) index = new Map(services.map((s, i) => [serviceKeyString(s.service.key), i]));
    const i = index.get(serviceKeyString(key));
    if (i === undefined) return -1;
    const entry = services[i];
    if (entry && !copied.has(i)) {
      entry.destinations = [...entry.destinations];
      copied.add(i);
    }
    return i;
  };
  for (const o of ops) {
    switch (o.op) {
      case 'add-service': {
        if (find(o.service.key) !== -1) throw new ModelError('EEXIST', `service ${serviceKeyString(o.service.key)} exists`);
        const key = o.service.key;
        const family = 'fwmark' in key ? key.family : parseIp(key.address).family;
        index?.set(serviceKeyString(key), services.length);
        copied.add(services.length);
        services.push({
          service: { key, family, scheduler: o.service.scheduler, flags: o.service.flags ?? 0, timeout: o.service.timeout ?? 0, netmask: o.service.netmask ?? (family === 'inet' ? 0xffffffff : 128), persistenceEngine: o.service.persistenceEngine, stats: undefined, stats64: undefined },
          destinations: [],
        });
        break;
      }
      case 'update-service': {
        const i = find(o.service.key);
        const s = services[i];
        if (!s) throw new ModelError('ESRCH', `no service ${serviceKeyString(o.service.key)}`);
        s.service = { ...s.service, scheduler: o.service.scheduler, flags: o.service.flags ?? 0, timeout: o.service.timeout ?? 0, ...(o.service.netmask !== undefined ? { netmask: o.service.netmask } : {}), persistenceEngine: o.service.persistenceEngine };
        break;
      }
      case 'delete-service': {
        const i = find(o.service);
        if (i === -1) throw new ModelError('ESRCH', `no service ${serviceKeyString(o.service)}`);
        services.splice(i, 1);
        index = undefined; // positions after i moved
        const shifted = [...copied].map((c) => (c > i ? c - 1 : c)).filter((c) => c !== i);
        copied.clear();
        for (const c of shifted) copied.add(c);
        break;
      }
      case 'add-destination': {
        const s = services[find(o.service)];
        if (!s) throw new ModelError('ESRCH', `no service ${serviceKeyString(o.service)}`);
        const id = destinationKeyString(o.destination);
        if (s.destinations.some((d) => destinationKeyString(d) === id)) throw new ModelError('EEXIST', `destination ${id} exists`);
        const d = o.destination;
        s.destinations.unshift({
          address: d.address,
          port: d.port,
          family: parseIp(d.address).family,
          forwarding: d.forwarding,
          weight: d.weight,
          lastWeight: d.weight,
          upperThreshold: d.upperThreshold ?? 0,
          lowerThreshold: d.lowerThreshold ?? 0,
          tunnel: d.forwarding === 'tunnel' ? tunnelOf(d.tunnel) : undefined,
          activeConnections: 0,
          inactiveConnections: 0,
          persistentConnections: 0,
          stats: undefined,
          stats64: undefined,
        });
        break;
      }
      case 'update-destination': {
        const s = services[find(o.service)];
        if (!s) throw new ModelError('ESRCH', `no service ${serviceKeyString(o.service)}`);
        const id = destinationKeyString(o.destination);
        const i = s.destinations.findIndex((d) => destinationKeyString(d) === id);
        const old = s.destinations[i];
        if (!old) throw new ModelError('ENOENT', `no destination ${id}`);
        const d = o.destination;
        s.destinations[i] = {
          ...old,
          forwarding: d.forwarding,
          weight: d.weight,
          lastWeight: d.weight !== 0 ? d.weight : old.lastWeight,
          upperThreshold: d.upperThreshold ?? 0,
          lowerThreshold: d.lowerThreshold ?? 0,
          tunnel: d.forwarding === 'tunnel' ? tunnelOf(d.tunnel) : undefined,
        };
        break;
      }
      case 'delete-destination': {
        const s = services[find(o.service)];
        if (!s) throw new ModelError('ESRCH', `no service ${serviceKeyString(o.service)}`);
        const id = destinationKeyString(o.destination);
        const i = s.destinations.findIndex((d) => destinationKeyString(d) === id);
        if (i === -1) throw new ModelError('ENOENT', `no destination ${id}`);
        s.destinations.splice(i, 1);
        break;
      }
    }
  }
  return services;
}

const IPIP: NonNullable<Destination['tunnel']> = Object.freeze({ type: 'ipip', port: 0, flags: 0 });

/** The tunnel a destination reports; the common plain IPIP one is shared (views hold 100k+ destinations). */
function tunnelOf(t: DestinationSpec['tunnel']): NonNullable<Destination['tunnel']> {
  const type = t?.type ?? 'ipip';
  const port = t?.port ?? 0;
  const flags = t?.flags ?? 0;
  return type === 'ipip' && port === 0 && flags === 0 ? IPIP : { type, port, flags };
}

/** What a dump of the modelled kernel returns (last_weight is not visible there). */
export function dumpModel(state: readonly ModelService[]): ActualService[] {
  return state.map((s) => ({ service: s.service, destinations: s.destinations.map(({ lastWeight: _hidden, ...d }) => d) }));
}

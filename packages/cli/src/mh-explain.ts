import { ServiceFlags, destinationKeyString, type Service } from '@balanced/ipvs';
import type { ModelDestination } from '@balanced/ipvs-controller';
import { kernelMh, mhHashkey, type AddressFamily, type MhDestination } from '@balanced/maglev';
import { CliError } from './errors.js';

export interface MhProbe {
  readonly slot: number;
  /** destinationKeyString of the destination in that slot, or null for an empty slot. */
  readonly destination: string | null;
  /** Why it was passed over, when it was. */
  readonly unavailable: string | null;
}

export interface MhDestinationRow {
  readonly destination: string;
  readonly weight: number;
  readonly lastWeight: number;
  /** Slots of the table it holds (its share of clients before fallback). */
  readonly slots: number;
}

export interface MhAnswer {
  readonly tableSize: number;
  readonly tabIndex: number;
  readonly flags: { readonly mhPort: boolean; readonly mhFallback: boolean };
  /** In kernel list order: the order the table is built from. */
  readonly destinations: readonly MhDestinationRow[];
  /** The slots looked at, in order: the client's first slot, then the fallback probes. */
  readonly probes: readonly MhProbe[];
  /** The chosen destination, or null: the kernel drops the packet. */
  readonly chosen: { readonly destination: string; readonly slot: number; readonly fallbackProbes: number } | null;
  readonly reason: string;
}

/**
 * Which destination the kernel's `mh` scheduler gives this client, with the maglev package's
 * exact model of ip_vs_mh (table from the destination list in kernel order and last_weight).
 * The probe path is narrated with mhHashkey and checked against the model's own answer.
 */
export function explainMh(service: Service, destinations: readonly ModelDestination[], client: string, clientPort: number | undefined, tabIndex: number): MhAnswer {
  if (service.scheduler !== 'mh') throw new CliError(`scheduler ${service.scheduler}: only mh picks a backend from the client alone; no per-client answer`);
  const af: AddressFamily = service.family === 'inet6' ? 'inet6' : 'inet';
  const flags = { mhPort: (service.flags & ServiceFlags.MH_PORT) !== 0, mhFallback: (service.flags & ServiceFlags.MH_FALLBACK) !== 0 };
  const dests: MhDestination[] = destinations.map((d) => ({ address: d.address, port: d.port, weight: d.weight, lastWeight: d.weight !== 0 ? d.weight : d.lastWeight }));
  const model = kernelMh({ af, schedulerFlags: flags, destinations: dests }, { tabIndex });
  let answer;
  try {
    answer = model.explain(client, clientPort);
  } catch (e) {
    throw new CliError(`client ${client}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const m = model.tableSize;
  const counts = new Array<number>(dests.length).fill(0);
  for (const i of model.table) if (i >= 0) counts[i] = (counts[i] ?? 0) + 1;
  const name = (i: number): string | null => (i >= 0 && dests[i] !== undefined ? destinationKeyString(dests[i]) : null);
  const why = (i: number): string | null => (i < 0 ? 'empty slot' : (dests[i]?.weight ?? 0) <= 0 ? 'weight 0 (drained)' : null);

  const port = flags.mhPort ? (clientPort ?? 0) : 0;
  const first = mhHashkey(af, client, port, 'hash1', 0) % m;
  const probes: MhProbe[] = [{ slot: first, destination: name(model.table[first] ?? -1), unavailable: why(model.table[first] ?? -1) }];
  const probesTaken = answer?.fallbackProbes ?? (flags.mhFallback ? m : 0);
  for (let offset = 0; offset < probesTaken && probes.length < 64; offset++) {
    const slot = mhHashkey(af, client, port, 'hash1', (offset + first) % m) % m;
    const i = model.table[slot] ?? -1;
    probes.push({ slot, destination: name(i), unavailable: why(i) });
    if (i < 0 || why(i) === null) break;
  }
  // The narration must end where the model ends; otherwise show only the model's answer.
  const consistent = answer === null || probes[probes.length - 1]?.slot === answer.slot;
  const chosen = answer === null ? null : { destination: destinationKeyString(answer.destination), slot: answer.slot, fallbackProbes: answer.fallbackProbes };
  let reason: string;
  if (chosen === null) reason = flags.mhFallback ? 'every probed slot is empty or unavailable: the packet is dropped' : `slot ${first} holds an unavailable destination and mh-fallback is off: the packet is dropped`;
  else if (chosen.fallbackProbes === 0) reason = `the client hashes to slot ${chosen.slot}, which holds ${chosen.destination}`;
  else reason = `the client hashes to slot ${first}, whose destination is unavailable; mh-fallback probed ${chosen.fallbackProbes} more slot(s) and took ${chosen.destination} in slot ${chosen.slot}`;
  return {
    tableSize: m,
    tabIndex: model.tabIndex,
    flags,
    destinations: dests.map((d, i) => ({ destination: destinationKeyString(d), weight: d.weight, lastWeight: d.lastWeight ?? d.weight, slots: counts[i] ?? 0 })),
    probes: consistent ? probes : [],
    chosen,
    reason,
  };
}

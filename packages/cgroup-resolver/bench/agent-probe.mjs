// Cheap reads of the agent's pinned maps for agent.bench.mjs: what one Service frontend resolves
// to right now, without dumping 10,000 tables. A probe is a few bpf() lookups:
// bd_frontends[ClusterIP:port/TCP service] → service id → bd_services[id] → inner map id.
// A service-put builds a new inner map and swaps it in, so a changed table shows as another
// inner map id; the header chunk of the old inner map is compared as well, so that an in-place
// rewrite of a table (should the planner ever do one) is seen too.
import { join } from 'node:path';
import { MapHandle } from '../dist/index.js';
import { decodeBackendValue, decodeServiceTable, decodeU32, encodeFrontendKey, encodeU32Key } from '../dist/maps/layout.js';

const sameBytes = (a, b) => a !== undefined && b !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);
const CHUNK0 = encodeU32Key(0, 'chunk');

export class MapProbe {
  constructor(pinRoot) {
    this.frontends = MapHandle.pinned(join(pinRoot, 'bd_frontends'), 'bd_frontends');
    this.services = MapHandle.pinned(join(pinRoot, 'bd_services'), 'bd_services');
    this.backends = MapHandle.pinned(join(pinRoot, 'bd_backends'), 'bd_backends');
  }

  /** { serviceId, innerId } the frontend resolves through now; undefined parts when absent. */
  current(address, port) {
    const v = this.frontends.lookup(encodeFrontendKey({ address, port, protocol: 'TCP', kind: 'service' }));
    if (v === undefined) return { serviceId: undefined, innerId: undefined };
    const serviceId = decodeU32(v);
    const inner = this.services.lookup(encodeU32Key(serviceId, 'service id', 1));
    return { serviceId, innerId: inner === undefined ? undefined : decodeU32(inner) };
  }

  /**
   * A snapshot of what the frontend resolves through, and a predicate that tells (cheaply) when
   * that has changed. Call release() when done.
   */
  watch(address, port) {
    const before = this.current(address, port);
    let handle;
    try {
      handle = before.innerId === undefined ? undefined : MapHandle.byId(before.innerId);
    } catch {
      handle = undefined;
    }
    const header = handle?.lookup(CHUNK0);
    return {
      before,
      changed: () => {
        const now = this.current(address, port);
        if (now.serviceId !== before.serviceId || now.innerId !== before.innerId) return true;
        if (handle === undefined) return false;
        return !sameBytes(handle.lookup(CHUNK0), header);
      },
      release: () => handle?.close(),
    };
  }

  /** Addresses the frontend's table gives slots to now (sorted); undefined without a frontend or table. */
  resolved(address, port) {
    const { innerId } = this.current(address, port);
    if (innerId === undefined) return undefined;
    const inner = MapHandle.byId(innerId);
    try {
      const chunks = new Array(inner.info.maxEntries);
      for (const [k, v] of inner.entries()) chunks[decodeU32(k)] = v;
      const table = decodeServiceTable(Array.from(chunks, (c) => c ?? new Uint8Array(64)));
      const used = new Set(table.slots);
      return table.backendIds
        .filter((_, i) => used.has(i))
        .map((id) => {
          const b = this.backends.lookup(encodeU32Key(id, 'backend id'));
          return b === undefined ? `?${id}` : decodeBackendValue(b).address;
        })
        .sort();
    } finally {
      inner.close();
    }
  }

  close() {
    this.frontends.close();
    this.services.close();
    this.backends.close();
  }
}

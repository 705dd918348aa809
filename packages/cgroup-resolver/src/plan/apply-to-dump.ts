// What the maps hold after a plan, computed without touching them: for dry runs (`balanced
// plan`) and for checking plans in tests.
import type { BackendEntry, FrontendEntry, MapsDump, Plan, ServiceTable } from '../model.js';
import { compareFrontends, frontendKey } from './keys.js';

/** Applies `plan.ops` in order to a copy of `dump` (frontends keyed by (address, port, protocol, kind)). */
export function applyToDump(dump: MapsDump, plan: Pick<Plan, 'ops'>): MapsDump {
  const frontends = new Map<string, FrontendEntry>();
  for (const f of dump.frontends) frontends.set(frontendKey(f), f);
  const services = new Map<number, ServiceTable>(dump.services);
  const backends = new Map<number, BackendEntry>(dump.backends);
  for (const op of plan.ops) {
    switch (op.op) {
      case 'backend-put':
        backends.set(op.id, op.backend);
        break;
      case 'service-put':
        services.set(op.id, op.table);
        break;
      case 'frontend-put':
        frontends.set(frontendKey(op.frontend), op.frontend);
        break;
      case 'frontend-delete':
        frontends.delete(frontendKey(op.frontend));
        break;
      case 'service-delete':
        services.delete(op.id);
        break;
      case 'backend-delete':
        backends.delete(op.id);
        break;
    }
  }
  return { frontends: [...frontends.values()].sort(compareFrontends), services, backends };
}

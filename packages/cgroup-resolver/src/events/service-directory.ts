// Which Service (or policy) an event's service id stands for, learnt from the agent's plans:
// each plan lists `serviceIds` (desired service key → map id) for the services it planned and
// a `service-delete` op for each id it freed. The narrow read the events need of the agent.
import type { Plan } from '../model.js';

/** A desired service key read back: `<namespace>/<name>:<port>/<protocol> …` for a Service. */
export interface ServiceOwner {
  /** The desired service key as the agent names it, e.g. `shop/web:http/TCP IPv4`. */
  readonly key: string;
  /** `<namespace>/<name>` when the key names one (Services and namespaced policies). */
  readonly object?: string;
  /** Port name or number when the key names one. */
  readonly port?: string;
}

const SERVICE_KEY = /^([^/\s]+)\/([^:\s]+):([^/\s]+)\//;

export function serviceOwner(key: string): ServiceOwner {
  const m = SERVICE_KEY.exec(key);
  return m === null ? { key } : { key, object: `${m[1]}/${m[2]}`, port: m[3]! };
}

/** What the directory reads of a plan. */
export type PlanIds = Pick<Plan, 'serviceIds' | 'ops'>;

export class ServiceDirectory {
  private readonly byId = new Map<number, ServiceOwner>();

  /** Learn from one applied plan (the agent's onPass, every step). */
  learn(plan: PlanIds): void {
    for (const op of plan.ops) if (op.op === 'service-delete') this.byId.delete(op.id);
    for (const [key, id] of plan.serviceIds) {
      if (this.byId.get(id)?.key !== key) this.byId.set(id, serviceOwner(key));
    }
  }

  get(id: number): ServiceOwner | undefined {
    return this.byId.get(id);
  }
}

// Which Service or policy an event's service id stands for, learnt from the agent's plans:
// each plan lists `serviceIds` (desired service key → map id) for the services it planned and
// a `service-delete` op for each id it freed. The narrow read the events need of the agent.
import { POLICY_KINDS } from '@balanced/policies';
import type { Plan } from '../model.js';

/**
 * A desired service key read back: `<namespace>/<name>:<port>/<protocol> <family>` for a
 * Service, `policy <kind>/<name>:<frontend port>/<protocol> <family>` for a policy's frontend
 * (desired/policy-candidates.ts, policyServiceKey).
 */
export interface ServiceOwner {
  /** The desired service key as the agent names it, e.g. `shop/web:http/TCP IPv4`. */
  readonly key: string;
  /**
   * What the event hit: `<namespace>/<name>` of a Service, `<kind>/<name>` of a policy
   * (`LocalRedirectPolicy/node-local-dns`; policies are cluster-scoped, and a namespace, a DNS
   * label, is never a policy kind). Absent when the key names neither.
   */
  readonly object?: string;
  /** The Service's port name or number; the policy's frontend port. */
  readonly port?: string;
}

const SERVICE_KEY = /^([^/\s]+)\/([^:\s]+):([^/\s]+)\//;
const POLICY_KEY = new RegExp(`^policy (${POLICY_KINDS.join('|')})\\/([^:\\s]+):([^/\\s]+)\\/`);

export function serviceOwner(key: string): ServiceOwner {
  const m = SERVICE_KEY.exec(key) ?? POLICY_KEY.exec(key);
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

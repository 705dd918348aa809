import { Counter, Gauge, type Registry } from 'prom-client';

export type StatusWriteOutcome = 'ok' | 'conflict' | 'notfound' | 'error';

const OUTCOMES: readonly StatusWriteOutcome[] = ['ok', 'conflict', 'notfound', 'error'];

/** Policy status writes of this agent (only the elected one writes), registered in the given Registry. */
export class PolicyStatusMetrics {
  private readonly writes: Counter<'result'>;
  private readonly leader: Gauge;

  constructor(registry: Registry) {
    this.writes = new Counter({
      name: 'balanced_resolver_policy_status_writes_total',
      help: 'LocalRedirectPolicy/BalancingPolicy status writes, by result (ok, conflict: changed meanwhile, notfound: deleted meanwhile, error)',
      labelNames: ['result'] as const,
      registers: [registry],
    });
    this.leader = new Gauge({ name: 'balanced_resolver_policy_status_leader', help: '1 while this agent holds the policy status Lease (the only writer)', registers: [registry] });
    for (const result of OUTCOMES) this.writes.inc({ result }, 0);
  }

  recordWrite(result: StatusWriteOutcome): void {
    this.writes.inc({ result });
  }

  setLeader(leading: boolean): void {
    this.leader.set(leading ? 1 : 0);
  }
}

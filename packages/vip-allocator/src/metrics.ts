import { Counter, Gauge, Histogram, Registry } from 'prom-client';

import type { AllocationPlan } from './allocate.js';

/** Prometheus metrics of one allocator replica (every replica plans; only the leader writes). */
export class AllocatorMetrics {
  readonly registry = new Registry();
  private readonly addresses = new Gauge({ name: 'balanced_vip_pool_addresses', help: 'Addresses a VipPool can hand out', labelNames: ['pool'] as const, registers: [this.registry] });
  private readonly allocated = new Gauge({ name: 'balanced_vip_pool_allocated', help: 'Addresses of a VipPool held by Services', labelNames: ['pool'] as const, registers: [this.registry] });
  private readonly invalidPools = new Gauge({ name: 'balanced_vip_pools_invalid', help: 'VipPools with an invalid spec (their last valid version is used, if any)', registers: [this.registry] });
  private readonly failing = new Gauge({ name: 'balanced_vip_services_failing', help: 'Services whose allocation currently fails, by reason', labelNames: ['reason'] as const, registers: [this.registry] });
  private readonly allocations = new Counter({ name: 'balanced_vip_allocations_total', help: 'Addresses assigned (status written), by pool', labelNames: ['pool'] as const, registers: [this.registry] });
  private readonly releases = new Counter({ name: 'balanced_vip_releases_total', help: 'Addresses removed from a status', registers: [this.registry] });
  private readonly failures = new Counter({ name: 'balanced_vip_allocation_failures_total', help: 'Allocation failures, once per appearance, by reason', labelNames: ['reason'] as const, registers: [this.registry] });
  private readonly writes = new Counter({ name: 'balanced_vip_status_writes_total', help: 'Service status writes, by result (ok, conflict, gone, refused, error)', labelNames: ['result'] as const, registers: [this.registry] });
  private readonly outsidePools = new Gauge({
    name: 'balanced_vip_addresses_outside_pools',
    help: 'Addresses held by Services that lie in no valid VipPool (pool deleted or invalid): kept, never released or handed out',
    registers: [this.registry],
  });
  private readonly deletionWaiting = new Gauge({
    name: 'balanced_vip_pools_deletion_waiting',
    help: 'VipPools being deleted that stay (the allocator finalizer) while Services hold addresses from them',
    registers: [this.registry],
  });
  private readonly leader = new Gauge({ name: 'balanced_vip_leader', help: '1 while this replica holds the Lease', registers: [this.registry] });
  private readonly passes = new Counter({ name: 'balanced_vip_passes_total', help: 'Planning passes', registers: [this.registry] });
  private readonly duration = new Histogram({ name: 'balanced_vip_pass_duration_seconds', help: 'Duration of a planning pass (with its writes)', buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10], registers: [this.registry] });

  recordPlan(plan: AllocationPlan): void {
    this.addresses.reset();
    this.allocated.reset();
    for (const u of plan.usage) {
      this.addresses.set({ pool: u.pool }, Number(u.capacity));
      this.allocated.set({ pool: u.pool }, u.allocated);
    }
    this.failing.reset();
    const byReason = new Map<string, Set<string>>();
    for (const f of plan.failures) byReason.set(f.reason, (byReason.get(f.reason) ?? new Set()).add(f.key));
    for (const [reason, keys] of byReason) this.failing.set({ reason }, keys.size);
    this.outsidePools.set(plan.outsidePools.length);
  }

  recordPass(durationMs: number): void {
    this.passes.inc();
    this.duration.observe(durationMs / 1000);
  }

  recordFailure(reason: string): void {
    this.failures.inc({ reason });
  }

  recordWrite(result: 'ok' | 'conflict' | 'gone' | 'refused' | 'error'): void {
    this.writes.inc({ result });
  }

  recordAllocation(pool: string): void {
    this.allocations.inc({ pool });
  }

  recordRelease(count: number): void {
    if (count > 0) this.releases.inc(count);
  }

  setPoolsDeletionWaiting(count: number): void {
    this.deletionWaiting.set(count);
  }

  setLeader(leading: boolean): void {
    this.leader.set(leading ? 1 : 0);
  }

  setInvalidPools(count: number): void {
    this.invalidPools.set(count);
  }
}

// Prometheus metrics of one announcer: what it announces and withholds, the controller's
// health as it sees it, BIRD reloads, and (read from BIRD when scraped) its BGP sessions.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AnnouncementPlan } from './announcements.js';

export interface SessionState {
  readonly neighbor: string;
  readonly up: boolean;
}

export type ReloadResult = 'ok' | 'unchanged' | 'rejected' | 'not_included' | 'error';

export class AnnouncerMetrics {
  readonly registry = new Registry();
  private readonly syncs = new Counter({ name: 'balanced_vip_announcer_syncs_total', help: 'Render passes', registers: [this.registry] });
  private readonly announced = new Gauge({ name: 'balanced_vip_announcer_vips_announced', help: 'VIPs in the rendered BIRD file', registers: [this.registry] });
  private readonly vip = new Gauge({
    name: 'balanced_vip_announcer_vip_announced',
    help: '1 while the VIP is announced, 0 while it is withheld (reason: ControllerUnhealthy, NoReadyEndpoints)',
    labelNames: ['vip', 'reason'] as const,
    registers: [this.registry],
  });
  private readonly controller = new Gauge({ name: 'balanced_vip_announcer_controller_healthy', help: "1 while this director's ipvs-controller is ready", registers: [this.registry] });
  private readonly probes = new Counter({ name: 'balanced_vip_announcer_controller_probes_total', help: 'Readiness probes of the ipvs-controller, by result', labelNames: ['result'] as const, registers: [this.registry] });
  private readonly reloads = new Counter({ name: 'balanced_vip_announcer_bird_reloads_total', help: 'Attempts to bring BIRD to the rendered file, by result', labelNames: ['result'] as const, registers: [this.registry] });
  private readonly reloadOk = new Gauge({ name: 'balanced_vip_announcer_bird_config_current', help: '1 when BIRD runs the current rendered file, 0 after a failed reload', registers: [this.registry] });
  private readonly reloadSeconds = new Histogram({
    name: 'balanced_vip_announcer_bird_reload_duration_seconds',
    help: 'Write + configure check + configure',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  private readonly problems = new Gauge({ name: 'balanced_vip_announcer_problems', help: 'Problems in the last pass (a missing VipPool, an invalid pool entry)', registers: [this.registry] });
  private readonly sessions = new Gauge({
    name: 'balanced_vip_announcer_bgp_session_up',
    help: '1 while the BGP session to the neighbor is established (read from BIRD when scraped)',
    labelNames: ['neighbor'] as const,
    collect: () => this.refreshSessions(),
    registers: [this.registry],
  });
  private sessionSource: (() => Promise<readonly SessionState[]>) | undefined;

  /** Ask BIRD for session states when Prometheus scrapes. */
  readSessionsOnScrape(source: () => Promise<readonly SessionState[]>): void {
    this.sessionSource = source;
  }

  private async refreshSessions(): Promise<void> {
    if (this.sessionSource === undefined) return;
    try {
      const states = await this.sessionSource();
      this.sessions.reset();
      for (const s of states) this.sessions.set({ neighbor: s.neighbor }, s.up ? 1 : 0);
    } catch {
      this.sessions.reset();
    }
  }

  recordPlan(plan: AnnouncementPlan, problems: number): void {
    this.syncs.inc();
    this.announced.set(plan.announced.length);
    this.vip.reset();
    for (const a of plan.announced) this.vip.set({ vip: a.vip, reason: '' }, 1);
    for (const w of plan.withheld) this.vip.set({ vip: w.vip, reason: w.reason }, 0);
    this.problems.set(problems);
  }

  recordController(healthy: boolean): void {
    this.controller.set(healthy ? 1 : 0);
  }

  recordProbe(ok: boolean): void {
    this.probes.inc({ result: ok ? 'ok' : 'fail' });
  }

  recordReload(result: ReloadResult, durationMs?: number): void {
    this.reloads.inc({ result });
    this.reloadOk.set(result === 'ok' || result === 'unchanged' ? 1 : 0);
    if (durationMs !== undefined) this.reloadSeconds.observe(durationMs / 1000);
  }
}

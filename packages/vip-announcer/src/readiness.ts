// /readyz of the announcer (pure): ready once the informers have listed and BIRD runs the file
// of the last pass; the detail says what is announced, what is withheld and why.
import type { AnnouncementPlan } from './announcements.js';

export interface ReadinessInput {
  readonly synced: boolean;
  /** Why the VipPool list is not there yet (HTTP 404 before the CRD exists, …). */
  readonly poolsError: string | undefined;
  readonly controllerHealthy: boolean;
  readonly controllerDetail: string;
  readonly plan: AnnouncementPlan | undefined;
  /** BIRD runs the file of the last pass. */
  readonly birdCurrent: boolean;
  readonly birdError: Error | undefined;
  readonly outputFile: string;
  readonly sessions: readonly string[];
}

export function describeReadiness(r: ReadinessInput): { ok: boolean; detail: string } {
  const plan = r.plan;
  const announced = plan === undefined ? 'nothing yet' : plan.announced.length === 0 ? 'none' : plan.announced.map((a) => a.vip).join(' ');
  const withheld = plan === undefined || plan.withheld.length === 0 ? 'none' : plan.withheld.map((w) => `${w.vip} (${w.reason})`).join(' ');
  const bird = r.birdError !== undefined ? `error: ${r.birdError.message}` : r.birdCurrent ? `runs ${r.outputFile} (sessions ${r.sessions.join(', ')})` : 'not configured yet';
  const parts = [
    `informers synced: ${r.synced}${!r.synced && r.poolsError !== undefined ? ` (VipPools: ${r.poolsError})` : ''}`,
    `ipvs-controller ready: ${r.controllerHealthy} (${r.controllerDetail})`,
    `announced: ${announced}`,
    `withheld: ${withheld}`,
    `BIRD: ${bird}`,
  ];
  return { ok: r.synced && r.birdCurrent && r.birdError === undefined, detail: parts.join('; ') };
}

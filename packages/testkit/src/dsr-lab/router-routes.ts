import { setTimeout as sleep } from 'node:timers/promises';
import { runChecked } from '../exec.js';
import type { DsrLabPlan } from './plan.js';

/** One kernel route to the VIP /32 in the router. */
export interface VipRoute {
  /** "bird", "boot", "static", …; undefined when ip does not print one. */
  readonly protocol: string | undefined;
  readonly metric: number;
  /** Next-hop gateways (one, or several for a multipath route), sorted. */
  readonly nexthops: readonly string[];
}

interface IpJsonRoute {
  readonly protocol?: string;
  readonly metric?: number;
  readonly gateway?: string;
  readonly nexthops?: readonly { readonly gateway?: string }[];
}

/** Parses `ip -j route show <prefix>` (pure). */
export function parseIpJsonRoutes(json: string): VipRoute[] {
  const rows = JSON.parse(json === '' ? '[]' : json) as IpJsonRoute[];
  return rows.map((r) => ({
    protocol: r.protocol,
    metric: r.metric ?? 0,
    nexthops: (r.nexthops ? r.nexthops.map((n) => n.gateway ?? '') : r.gateway !== undefined ? [r.gateway] : []).sort(),
  }));
}

/** Every route to VIP/32 in the router's main table. */
export async function readVipRoutes(plan: DsrLabPlan): Promise<VipRoute[]> {
  return parseIpJsonRoutes((await runChecked('ip', ['-n', plan.router.netns, '-j', 'route', 'show', `${plan.vip}/32`])).trim());
}

/** The next hops BIRD installed for the VIP (sorted; [] when it installed none). */
export async function birdVipNexthops(plan: DsrLabPlan): Promise<string[]> {
  return [...((await readVipRoutes(plan)).find((r) => r.protocol === 'bird')?.nexthops ?? [])];
}

/**
 * Polls the router until BIRD's route to the VIP has exactly these next hops (director
 * addresses, any order); resolves with how long that took.
 */
export async function waitForVipNexthops(plan: DsrLabPlan, expected: readonly string[], options: { timeoutMs?: number; intervalMs?: number } = {}): Promise<number> {
  const want = [...expected].sort().join(',');
  const started = Date.now();
  for (;;) {
    const seen = (await birdVipNexthops(plan)).join(',');
    if (seen === want) return Date.now() - started;
    if (Date.now() - started > (options.timeoutMs ?? 30_000)) {
      throw new Error(`router ${plan.router.netns}: BIRD route to ${plan.vip}/32 has next hops [${seen}], want [${want}]`);
    }
    await sleep(options.intervalMs ?? 100);
  }
}

/** Metric of the pinning route: lower than BIRD's (32), so the kernel prefers it. */
export const PIN_METRIC = 1;

/**
 * Sends every packet for the VIP through one director, whatever BGP says: a static route
 * with a better metric than BIRD's multipath route (which stays installed underneath).
 */
export async function pinVipRoute(plan: DsrLabPlan, directorIndex: number): Promise<void> {
  const d = plan.directors.find((x) => x.index === directorIndex);
  if (d === undefined) throw new RangeError(`no director ${directorIndex}`);
  await runChecked('ip', ['-n', plan.router.netns, 'route', 'replace', `${plan.vip}/32`, 'via', d.link.address, 'metric', String(PIN_METRIC)]);
}

/** Removes the pinning route: BGP's multipath route decides again. */
export async function unpinVipRoute(plan: DsrLabPlan): Promise<void> {
  await runChecked('ip', ['-n', plan.router.netns, 'route', 'del', `${plan.vip}/32`, 'metric', String(PIN_METRIC)]);
}

/** A director failure: deletes its link to the router (BIRD loses the session, the route shrinks). */
export async function disconnectDirector(plan: DsrLabPlan, directorIndex: number): Promise<void> {
  const i = plan.directors.findIndex((x) => x.index === directorIndex);
  if (i < 0) throw new RangeError(`no director ${directorIndex}`);
  await runChecked('ip', ['-n', plan.router.netns, 'link', 'del', plan.router.toDirectors[i]!.ifname]);
}

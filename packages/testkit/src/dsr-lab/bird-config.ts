import type { DirectorPlan, DsrLabPlan } from './plan.js';

/**
 * Hand-written BIRD 2 configurations for the lab (pure). `connect delay time 1` brings a
 * session up in about a second instead of ~5; a short hold time lets a silent peer go soon.
 */
const SESSION_TIMERS = 'hold time 9; connect retry time 1; connect delay time 1;';

/**
 * The router: one eBGP session per director; the kernel protocol installs the VIP with one
 * next hop per director (`merge paths on` = ECMP). Nothing is announced back.
 */
export function renderRouterBirdConfig(plan: DsrLabPlan, logFile: string): string {
  const { router } = plan;
  const sessions = plan.directors.map(
    (d, i) => `protocol bgp director${d.index} from directors { neighbor ${d.link.address} as ${d.asn}; source address ${router.toDirectors[i]!.address}; }`,
  );
  return [
    `router id ${router.routerId};`,
    `log "${logFile}" all;`,
    'protocol device { scan time 5; }',
    'protocol kernel {',
    '  ipv4 { import none; export all; };',
    '  merge paths on;',
    '}',
    'template bgp directors {',
    `  local as ${router.asn};`,
    `  ${SESSION_TIMERS}`,
    '  ipv4 { import all; export none; };',
    '}',
    ...sessions,
    '',
  ].join('\n');
}

/**
 * A director: announces the VIP /32 from a static protocol (a blackhole BIRD keeps to itself:
 * no kernel protocol here) with itself as next hop. What vip-announcer will render later.
 */
export function renderDirectorBirdConfig(plan: DsrLabPlan, director: DirectorPlan, logFile: string): string {
  return [
    `router id ${director.link.address};`,
    `log "${logFile}" all;`,
    'protocol device { scan time 5; }',
    `protocol static vips { ipv4; route ${plan.vip}/32 blackhole; }`,
    'protocol bgp uplink {',
    `  local ${director.link.address} as ${director.asn};`,
    `  neighbor ${director.routerAddress} as ${plan.router.asn};`,
    `  ${SESSION_TIMERS}`,
    '  ipv4 { import none; export where proto = "vips"; next hop self; };',
    '}',
    '',
  ].join('\n');
}

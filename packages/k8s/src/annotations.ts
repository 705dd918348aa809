// The annotation schema of DESIGN.md ("Schema"), parsed into a typed config. Every problem
// becomes a ConfigError naming the exact field, the value found and what to change; its
// `reason` is CamelCase so it can be used verbatim as a Kubernetes Event reason.
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import { ServiceFlags } from '@balanced/ipvs';
import { parseIp } from '@balanced/net';
import { asRecord, prop, show } from './read.js';
import { balanceDPoolReference, mapBalanceDScheduler } from './balanced-compat.js';

/** `spec.loadBalancerClass` that selects balanced's directors. */
export const LOAD_BALANCER_CLASS = 'balanced.dev/ipvs';

export const ANNOTATION_PREFIX = 'balanced.dev/';

/** Our annotation keys. */
export const Annotations = {
  scheduler: 'balanced.dev/scheduler',
  schedulerFlags: 'balanced.dev/scheduler-flags',
  forwarding: 'balanced.dev/forwarding',
  guePort: 'balanced.dev/gue-port',
  drainSeconds: 'balanced.dev/drain-seconds',
  ipPool: 'balanced.dev/ip-pool',
  ipRequest: 'balanced.dev/ip-request',
  bgpCommunities: 'balanced.dev/bgp-communities',
  /** Pod annotation. */
  tunnelIgnore: 'balanced.dev/tunnel-ignore',
} as const;

/** The prefix of BalanceD's keys (below). */
export const BALANCED_D_ANNOTATION_PREFIX = 'balanced.demonware.net/';

/** BalanceD's keys, accepted as aliases so BalanceD users can migrate without edits. */
export const BalanceDAnnotations = {
  scheduler: 'balanced.demonware.net/ipvs-scheduler',
  ipPool: 'balanced.demonware.net/ip-pool',
  ipRequest: 'balanced.demonware.net/ip-request',
  /** Pod annotation. */
  tunnelIgnore: 'balanced.demonware.net/tunnel-ignore',
} as const;

export const SCHEDULERS = ['mh', 'rr', 'wrr', 'lc', 'wlc', 'sh', 'dh'] as const;
export type BalancedScheduler = (typeof SCHEDULERS)[number];

export const SCHEDULER_FLAGS = ['mh-port', 'mh-fallback'] as const;
export type SchedulerFlag = (typeof SCHEDULER_FLAGS)[number];

export const FORWARDINGS = ['tunnel', 'gue', 'direct'] as const;
/** tunnel = IPIP (DSR), gue = IPIP in GUE (UDP), direct = IPVS direct routing (same L2). */
export type Forwarding = (typeof FORWARDINGS)[number];

export interface BgpCommunity {
  readonly asn: number;
  readonly value: number;
}

export interface ServiceConfig {
  readonly scheduler: BalancedScheduler;
  /** Sorted as in SCHEDULER_FLAGS, no duplicates. Empty for schedulers other than mh. */
  readonly schedulerFlags: readonly SchedulerFlag[];
  /** The same flags as IPVS ServiceFlags bits (MH_PORT, MH_FALLBACK). */
  readonly flags: number;
  readonly forwarding: Forwarding;
  /** UDP port for `gue` forwarding; undefined otherwise. */
  readonly guePort: number | undefined;
  readonly drainSeconds: number;
  /** 'annotation' when balanced.dev/drain-seconds set it; 'default' lets pods' grace period win. */
  readonly drainSecondsSource: 'annotation' | 'default';
  readonly ipPool: string | undefined;
  /** Normalised address text, in preference order, no duplicates. */
  readonly ipRequest: readonly string[];
  readonly bgpCommunities: readonly BgpCommunity[];
}

export interface ServiceConfigDefaults {
  readonly scheduler: BalancedScheduler;
  readonly forwarding: Forwarding;
  /** Used when neither the annotation nor the pods' terminationGracePeriodSeconds say. */
  readonly drainSeconds: number;
}

export const DEFAULT_SERVICE_CONFIG: ServiceConfigDefaults = { scheduler: 'mh', forwarding: 'tunnel', drainSeconds: 30 };

export interface ConfigError {
  /** e.g. `metadata.annotations["balanced.dev/scheduler"]` */
  readonly field: string;
  /** The value found, as text ('' when the problem is a missing value). */
  readonly value: string;
  /** What is wrong and what to change. */
  readonly message: string;
  /** CamelCase, usable as a Kubernetes Event reason, e.g. `InvalidScheduler`. */
  readonly reason: string;
}

export type ParseResult<T> =
  | { readonly ok: true; readonly config: T; readonly warnings: string[] }
  | { readonly ok: false; readonly errors: ConfigError[] };

export function annotationField(key: string): string {
  return `metadata.annotations[${JSON.stringify(key)}]`;
}

/** A Service is ours when it is a LoadBalancer of our class (or of no class with --default-class). */
export function isOurs(service: V1Service, options: { readonly defaultClass: boolean }): boolean {
  const spec = prop(service, 'spec');
  if (prop(spec, 'type') !== 'LoadBalancer') return false;
  const cls = prop(spec, 'loadBalancerClass');
  if (cls === undefined || cls === null || cls === '') return options.defaultClass;
  return cls === LOAD_BALANCER_CLASS;
}

const MAX_DRAIN_SECONDS = 2 ** 31 - 1;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const KNOWN_SERVICE_KEYS: ReadonlySet<string> = new Set([
  Annotations.scheduler,
  Annotations.schedulerFlags,
  Annotations.forwarding,
  Annotations.guePort,
  Annotations.drainSeconds,
  Annotations.ipPool,
  Annotations.ipRequest,
  Annotations.bgpCommunities,
]);

type Annots = ReadonlyMap<string, unknown>;

function annotationsOf(object: unknown): Annots {
  const raw = asRecord(prop(prop(object, 'metadata'), 'annotations'));
  const out = new Map<string, unknown>();
  if (raw === undefined) return out;
  for (const key of Object.keys(raw)) out.set(key, raw[key]);
  return out;
}

type Field<T> = { readonly ok: true; readonly value: T } | { readonly ok: false };

class Collector {
  readonly errors: ConfigError[] = [];
  readonly warnings: string[] = [];

  fail(key: string, value: string, reason: string, message: string): Field<never> {
    this.errors.push({ field: annotationField(key), value, reason, message: `${key}: ${message}` });
    return { ok: false };
  }

  /** The annotation's text (trimmed), undefined when absent, or an error when not a string. */
  text(annotations: Annots, key: string, reason: string): Field<string | undefined> {
    if (!annotations.has(key)) return { ok: true, value: undefined };
    const raw = annotations.get(key);
    if (typeof raw !== 'string') return this.fail(key, show(raw), reason, `must be a string, got ${show(raw)}`);
    return { ok: true, value: raw.trim() };
  }
}

function list(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function parseInteger(text: string): number | undefined {
  if (!/^[0-9]+$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * Read one setting that has our key and possibly a BalanceD alias. Each key present is parsed
 * on its own (errors name that key); when both parse and disagree, that is an error too.
 */
function aliased<T>(
  c: Collector,
  annotations: Annots,
  ours: string,
  alias: string | undefined,
  reason: string,
  parse: (text: string, key: string) => Field<T>,
  same: (a: T, b: T) => boolean,
  render: (value: T) => string,
): Field<T | undefined> {
  const read = (key: string): Field<T | undefined> => {
    const t = c.text(annotations, key, reason);
    if (!t.ok) return t;
    return t.value === undefined ? { ok: true, value: undefined } : parse(t.value, key);
  };
  const mine = read(ours);
  if (alias === undefined) return mine;
  const theirs = read(alias);
  if (!mine.ok || !theirs.ok) return { ok: false };
  if (mine.value === undefined) return theirs;
  if (theirs.value !== undefined && !same(mine.value, theirs.value)) {
    return c.fail(
      ours,
      render(mine.value),
      'ConflictingAnnotations',
      `"${render(mine.value)}" disagrees with the BalanceD alias ${alias} ("${render(theirs.value)}"); ` +
        `they must agree: remove ${alias} (${ours} is the one balanced reads) or make both equal`,
    );
  }
  return mine;
}

function oneOf<T extends string>(choices: readonly T[], reason: string, what: string, c: Collector, defaultValue: string) {
  return (text: string, key: string): Field<T> => {
    const v = text.toLowerCase();
    const hit = choices.find((x) => x === v);
    if (hit !== undefined) return { ok: true, value: hit };
    return c.fail(key, text, reason, `unknown ${what} "${text}"; use one of ${choices.join(', ')} (default ${defaultValue})`);
  };
}

const eq = <T>(a: T, b: T): boolean => a === b;
const id = (s: string): string => s;

/**
 * Parse the `balanced.dev/…` annotations of a Service (and BalanceD's aliases). Ownership is not
 * checked here: see isOurs. Never throws, whatever the object looks like.
 */
export function parseServiceConfig(service: V1Service, defaults: Partial<ServiceConfigDefaults> = {}): ParseResult<ServiceConfig> {
  const d: ServiceConfigDefaults = { ...DEFAULT_SERVICE_CONFIG, ...defaults };
  const a = annotationsOf(service);
  const c = new Collector();

  // scheduler
  const schedulerField = aliased(
    c,
    a,
    Annotations.scheduler,
    BalanceDAnnotations.scheduler,
    'InvalidScheduler',
    (text, key) => {
      const mapped = mapBalanceDScheduler(text, key); // BalanceD's hrw runs as mh, with a warning
      if (mapped.warning !== undefined) c.warnings.push(mapped.warning);
      return oneOf(SCHEDULERS, 'InvalidScheduler', 'scheduler', c, d.scheduler)(mapped.text, key);
    },
    eq,
    id,
  );
  const scheduler: BalancedScheduler = schedulerField.ok ? (schedulerField.value ?? d.scheduler) : d.scheduler;

  // scheduler-flags
  let schedulerFlags: SchedulerFlag[] = scheduler === 'mh' ? ['mh-fallback'] : [];
  const flagsText = c.text(a, Annotations.schedulerFlags, 'InvalidSchedulerFlags');
  if (flagsText.ok && flagsText.value !== undefined) {
    const key = Annotations.schedulerFlags;
    const given = list(flagsText.value.toLowerCase());
    const unknown = given.filter((f) => !(SCHEDULER_FLAGS as readonly string[]).includes(f));
    if (unknown.length > 0) {
      c.fail(
        key,
        flagsText.value,
        'InvalidSchedulerFlags',
        `unknown flag${unknown.length > 1 ? 's' : ''} ${unknown.map((f) => `"${f}"`).join(', ')}; ` +
          `use a comma list of ${SCHEDULER_FLAGS.join(', ')} (default mh-fallback)`,
      );
    } else if (schedulerField.ok && scheduler !== 'mh') {
      c.fail(
        key,
        flagsText.value,
        'InvalidSchedulerFlags',
        `flags apply only to the mh scheduler, but the scheduler is ${scheduler}; ` +
          `remove ${key} or set ${Annotations.scheduler}: mh`,
      );
    } else {
      const set = new Set(given);
      if (set.size !== given.length) c.warnings.push(`${key}: duplicate flags in "${flagsText.value}" were ignored`);
      schedulerFlags = SCHEDULER_FLAGS.filter((f) => set.has(f));
      if (!set.has('mh-fallback')) {
        c.warnings.push(
          `${key} does not include mh-fallback: while a destination drains (weight 0) the packets of ` +
            `clients hashed to it are dropped instead of moving to their next choice; add mh-fallback`,
        );
      }
    }
  }
  let flags = 0;
  if (schedulerFlags.includes('mh-fallback')) flags |= ServiceFlags.MH_FALLBACK;
  if (schedulerFlags.includes('mh-port')) flags |= ServiceFlags.MH_PORT;

  // forwarding + gue-port
  const fwdText = c.text(a, Annotations.forwarding, 'InvalidForwarding');
  let forwarding: Forwarding = d.forwarding;
  let forwardingOk = fwdText.ok;
  if (fwdText.ok && fwdText.value !== undefined) {
    const f = oneOf(FORWARDINGS, 'InvalidForwarding', 'forwarding', c, d.forwarding)(fwdText.value, Annotations.forwarding);
    if (f.ok) forwarding = f.value;
    forwardingOk = f.ok;
  }
  const portText = c.text(a, Annotations.guePort, 'InvalidGuePort');
  let guePort: number | undefined;
  if (portText.ok && portText.value !== undefined) {
    const n = parseInteger(portText.value);
    if (n === undefined || n < 1 || n > 65535) {
      c.fail(Annotations.guePort, portText.value, 'InvalidGuePort', `"${portText.value}" is not a UDP port; set an integer 1..65535`);
    } else if (forwardingOk && forwarding !== 'gue') {
      c.warnings.push(`${Annotations.guePort} is ignored: it applies only to ${Annotations.forwarding}: gue (forwarding is ${forwarding})`);
    } else {
      guePort = n;
    }
  } else if (portText.ok && forwardingOk && forwarding === 'gue') {
    c.fail(
      Annotations.guePort,
      '',
      'InvalidGuePort',
      `${Annotations.forwarding}: gue needs the backends' GUE UDP port; set ${Annotations.guePort} to an integer 1..65535`,
    );
  }

  // drain-seconds
  let drainSeconds = d.drainSeconds;
  let drainSecondsSource: 'annotation' | 'default' = 'default';
  const drainText = c.text(a, Annotations.drainSeconds, 'InvalidDrainSeconds');
  if (drainText.ok && drainText.value !== undefined) {
    const n = parseInteger(drainText.value);
    if (n === undefined || n > MAX_DRAIN_SECONDS) {
      c.fail(
        Annotations.drainSeconds,
        drainText.value,
        'InvalidDrainSeconds',
        `"${drainText.value}" is not a whole number of seconds; set a non-negative integer up to ${MAX_DRAIN_SECONDS}, e.g. "30"`,
      );
    } else {
      drainSeconds = n;
      drainSecondsSource = 'annotation';
    }
  }

  // ip-pool
  const pool = aliased(
    c,
    a,
    Annotations.ipPool,
    BalanceDAnnotations.ipPool,
    'InvalidIpPool',
    (text, key): Field<string | undefined> => {
      if (key === BalanceDAnnotations.ipPool) {
        // BalanceD's guide: empty = the default pool, a CIDR = the pool containing it (resolvePoolReference).
        const ref = balanceDPoolReference(text);
        if (ref.kind === 'default') return { ok: true, value: undefined };
        if (ref.kind === 'cidr') return { ok: true, value: ref.cidr };
        if (ref.kind === 'invalid') {
          return c.fail(key, text, 'InvalidIpPool', `${ref.message}; name a VipPool, or give the CIDR of the pool's range without host bits`);
        }
      }
      if (text.length <= 253 && DNS_SUBDOMAIN.test(text)) return { ok: true, value: text };
      return c.fail(
        key,
        text,
        'InvalidIpPool',
        `"${text}" is not a VipPool name; use a DNS subdomain name (lowercase letters, digits, '-' and '.', at most 253 characters)`,
      );
    },
    eq,
    (v) => v ?? '',
  );

  // ip-request
  const request = aliased(
    c,
    a,
    Annotations.ipRequest,
    BalanceDAnnotations.ipRequest,
    'InvalidIpRequest',
    (text, key): Field<readonly string[]> => {
      const out: string[] = [];
      const bad: string[] = [];
      for (const entry of list(text)) {
        try {
          const ip = parseIp(entry).text;
          if (out.includes(ip)) c.warnings.push(`${key}: ${entry} is listed more than once; the repeat was ignored`);
          else out.push(ip);
        } catch {
          bad.push(entry);
        }
      }
      if (bad.length > 0) {
        return c.fail(
          key,
          text,
          'InvalidIpRequest',
          `${bad.map((b) => `"${b}"`).join(', ')} ${bad.length > 1 ? 'are not IP addresses' : 'is not an IP address'}; ` +
            `use a comma list of IPv4/IPv6 addresses in preference order, e.g. "10.0.0.10, fd00::10"`,
        );
      }
      return { ok: true, value: out };
    },
    (x, y) => x.join(',') === y.join(','),
    (v) => v.join(','),
  );

  // bgp-communities
  const communities: BgpCommunity[] = [];
  const commText = c.text(a, Annotations.bgpCommunities, 'InvalidBgpCommunities');
  if (commText.ok && commText.value !== undefined) {
    const bad: string[] = [];
    for (const entry of list(commText.value)) {
      const m = /^([0-9]+):([0-9]+)$/.exec(entry);
      const asn = m?.[1] === undefined ? undefined : parseInteger(m[1]);
      const value = m?.[2] === undefined ? undefined : parseInteger(m[2]);
      if (asn === undefined || value === undefined || asn > 65535 || value > 65535) bad.push(entry);
      else if (!communities.some((x) => x.asn === asn && x.value === value)) communities.push({ asn, value });
    }
    if (bad.length > 0) {
      c.fail(
        Annotations.bgpCommunities,
        commText.value,
        'InvalidBgpCommunities',
        `${bad.map((b) => `"${b}"`).join(', ')} ${bad.length > 1 ? 'are not communities' : 'is not a community'}; ` +
          `use a comma list of asn:value with both parts integers 0..65535, e.g. "65000:100"`,
      );
    }
  }

  // unknown keys under our prefix are probably typos
  for (const key of [...a.keys()].sort()) {
    if (!key.startsWith(ANNOTATION_PREFIX) || KNOWN_SERVICE_KEYS.has(key)) continue;
    c.warnings.push(
      key === Annotations.tunnelIgnore
        ? `${key} is a Pod annotation and has no effect on a Service`
        : `${key} is not a balanced annotation and was ignored; known keys: ${[...KNOWN_SERVICE_KEYS].join(', ')}`,
    );
  }

  if (c.errors.length > 0) return { ok: false, errors: c.errors };
  const config: ServiceConfig = {
    scheduler,
    schedulerFlags,
    flags,
    forwarding,
    guePort,
    drainSeconds,
    drainSecondsSource,
    ipPool: pool.ok ? pool.value : undefined,
    ipRequest: request.ok ? (request.value ?? []) : [],
    bgpCommunities: communities,
  };
  // Without annotations of ours the config depends on the defaults alone: one shared (frozen)
  // object per defaults, rather than one per Service (a director keeps one per Service).
  const ours = [...a.keys()].some((k) => k.startsWith(ANNOTATION_PREFIX) || k.startsWith(BALANCED_D_ANNOTATION_PREFIX));
  return { ok: true, warnings: c.warnings, config: ours ? config : sharedConfig(config, d) };
}

const SHARED_CONFIGS = new Map<string, ServiceConfig>();

function sharedConfig(config: ServiceConfig, d: ServiceConfigDefaults): ServiceConfig {
  const key = `${d.scheduler}/${d.forwarding}/${d.drainSeconds}`;
  const known = SHARED_CONFIGS.get(key);
  if (known !== undefined) return known;
  const frozen: ServiceConfig = Object.freeze({
    ...config,
    schedulerFlags: Object.freeze([...config.schedulerFlags]),
    ipRequest: Object.freeze([...config.ipRequest]),
    bgpCommunities: Object.freeze([...config.bgpCommunities]),
  });
  if (SHARED_CONFIGS.size < 64) SHARED_CONFIGS.set(key, frozen);
  return frozen;
}

export interface PodConfig {
  /** The endpoint-controller leaves this pod's network namespace alone (no VIP on tunl0). */
  readonly tunnelIgnore: boolean;
}

/**
 * Parse the pod annotation `balanced.dev/tunnel-ignore` (alias `balanced.demonware.net/tunnel-ignore`):
 * "true" or "false" (case-insensitive), default false.
 */
export function parsePodConfig(pod: V1Pod): ParseResult<PodConfig> {
  const a = annotationsOf(pod);
  const c = new Collector();
  const flag = aliased(
    c,
    a,
    Annotations.tunnelIgnore,
    BalanceDAnnotations.tunnelIgnore,
    'InvalidTunnelIgnore',
    (text, key): Field<boolean> => {
      const v = text.toLowerCase();
      if (v === 'true' || v === 'false') return { ok: true, value: v === 'true' };
      return c.fail(key, text, 'InvalidTunnelIgnore', `"${text}" is not a boolean; set "true" or "false"`);
    },
    eq,
    String,
  );
  if (c.errors.length > 0) return { ok: false, errors: c.errors };
  return { ok: true, warnings: c.warnings, config: { tunnelIgnore: flag.ok ? (flag.value ?? false) : false } };
}

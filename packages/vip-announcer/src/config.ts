// The announcer's own configuration (a YAML file, --config): who we are in BGP, whom we peer
// with, extra CIDRs we may announce from (the VIP ranges come from the VipPools; `cidrs` adds
// to them, optional), and where BIRD and the rendered file live. Parsed
// strictly: an unknown key, a value of the wrong type or one that could not be written into a
// BIRD file safely is an error naming the field. Pure: no file access.
import { parse as parseYaml } from 'yaml';
import { InvalidCidrError, parseCidr, tryParseIp, type Cidr, type IpAddress } from '@balanced/net';
import { NAME_PATTERN, isSafeBirdString } from './bird-syntax.js';
import { AnnouncerConfigError, type ConfigProblem } from './config-error.js';
import { expandEnvironment } from './environment.js';

export interface NeighborConfig {
  /** Protocol name fragment: BIRD calls the session `balanced_peer_<name>`. */
  readonly name: string;
  readonly address: IpAddress;
  readonly asn: number;
  /** Our address on the session (`local <ip> as …`); BIRD picks one when absent. */
  readonly sourceAddress?: IpAddress;
  /** TCP port of the neighbor; BIRD's default (179) when absent. */
  readonly port?: number;
  /** Run BFD on this session (fast failure detection; the neighbor must run it too). */
  readonly bfd: boolean;
  /** TCP MD5 password. */
  readonly password?: string;
  /** eBGP multihop TTL; absent = directly connected. */
  readonly multihop?: number;
  /** Seconds; BIRD's defaults when absent. */
  readonly holdTime?: number;
  readonly keepaliveTime?: number;
  readonly connectRetryTime?: number;
  readonly connectDelayTime?: number;
  /** After a session fails (BFD down, hold timer, error), wait min..max seconds before trying again (BIRD's default 60..300). */
  readonly errorWaitTime?: { readonly min: number; readonly max: number };
}

export interface BfdConfig {
  /** Interface pattern for single-hop sessions (BIRD syntax, e.g. `*` or `eth*`). */
  readonly interface: string;
  readonly minRxMs: number;
  readonly minTxMs: number;
  readonly idleTxMs?: number;
  readonly multiplier: number;
}

/** What the renderer needs. */
export interface BirdRenderConfig {
  readonly localAsn: number;
  /** Rendered as `router id` when set (then the main config must not set one). */
  readonly routerId?: IpAddress;
  /**
   * The VIP ranges announced from: in the config file, optional extra CIDRs (the VipPools'
   * ranges are added at run time, see app.ts); what the renderer gets is the whole set.
   */
  readonly cidrs: readonly Cidr[];
  readonly neighbors: readonly NeighborConfig[];
  readonly bfd: BfdConfig;
  /** Advertise BGP graceful restart. Default off: a dead director's routes go at once. */
  readonly gracefulRestart: boolean;
}

export interface AnnouncerConfig extends BirdRenderConfig {
  /** The file the main BIRD config includes; rewritten atomically. */
  readonly outputFile: string;
  /** BIRD's control socket. */
  readonly birdSocket: string;
  /** The main BIRD config to check and load; BIRD's own (its -c file) when absent. */
  readonly birdConfig?: string;
}

export const DEFAULT_BFD: BfdConfig = { interface: '*', minRxMs: 100, minTxMs: 100, multiplier: 3 };

const TOP_KEYS = ['localAsn', 'routerId', 'cidrs', 'neighbors', 'bfd', 'gracefulRestart', 'outputFile', 'birdSocket', 'birdConfig'];
const NEIGHBOR_KEYS = ['name', 'address', 'asn', 'sourceAddress', 'port', 'bfd', 'password', 'multihop', 'holdTime', 'keepaliveTime', 'connectRetryTime', 'connectDelayTime', 'errorWaitTime'];
const BFD_KEYS = ['interface', 'minRxMs', 'minTxMs', 'idleTxMs', 'multiplier'];
const MAX_ASN = 4_294_967_295;
const PATH = /^\/[A-Za-z0-9_./-]*$/;
const INTERFACE_PATTERN = /^[A-Za-z0-9_.*?:-]{1,32}$/;

type Rec = Readonly<Record<string, unknown>>;

function isRecord(v: unknown): v is Rec {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

class Reader {
  readonly problems: ConfigProblem[] = [];

  fail(field: string, message: string): undefined {
    this.problems.push({ field, message });
    return undefined;
  }

  keys(field: string, value: Rec, allowed: readonly string[]): void {
    for (const k of Object.keys(value)) {
      if (!allowed.includes(k)) this.fail(field === '' ? k : `${field}.${k}`, `unknown key; known keys: ${allowed.join(', ')}`);
    }
  }

  integer(field: string, value: unknown, min: number, max: number): number | undefined {
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max) return value;
    return this.fail(field, `must be an integer ${min}..${max}, got ${JSON.stringify(value)}`);
  }

  optionalInteger(field: string, value: unknown, min: number, max: number): number | undefined {
    return value === undefined ? undefined : this.integer(field, value, min, max);
  }

  boolean(field: string, value: unknown, fallback: boolean): boolean {
    if (value === undefined) return fallback;
    if (typeof value === 'boolean') return value;
    this.fail(field, `must be true or false, got ${JSON.stringify(value)}`);
    return fallback;
  }

  ip(field: string, value: unknown, family?: 'inet'): IpAddress | undefined {
    const ip = tryParseIp(value);
    if (ip === undefined) return this.fail(field, `must be an IP address, got ${JSON.stringify(value)}`);
    if (family !== undefined && ip.family !== family) return this.fail(field, `must be an IPv4 address, got ${JSON.stringify(value)}`);
    return ip;
  }

  path(field: string, value: unknown): string | undefined {
    if (typeof value === 'string' && PATH.test(value) && !value.split('/').includes('..') && value.length <= 512) return value;
    return this.fail(field, `must be an absolute path of letters, digits and _ . - / (no ..), got ${JSON.stringify(value)}`);
  }
}

function readBfd(r: Reader, raw: unknown): BfdConfig {
  if (raw === undefined) return DEFAULT_BFD;
  if (!isRecord(raw)) {
    r.fail('bfd', 'must be a mapping');
    return DEFAULT_BFD;
  }
  r.keys('bfd', raw, BFD_KEYS);
  let iface = DEFAULT_BFD.interface;
  if (raw.interface !== undefined) {
    if (typeof raw.interface === 'string' && INTERFACE_PATTERN.test(raw.interface)) iface = raw.interface;
    else r.fail('bfd.interface', `must be an interface name or pattern (letters, digits, _ . * ? : -), got ${JSON.stringify(raw.interface)}`);
  }
  const ms = (key: 'minRxMs' | 'minTxMs' | 'idleTxMs', fallback: number | undefined): number | undefined =>
    raw[key] === undefined ? fallback : r.integer(`bfd.${key}`, raw[key], 1, 60_000);
  const idleTxMs = ms('idleTxMs', undefined);
  return {
    interface: iface,
    minRxMs: ms('minRxMs', DEFAULT_BFD.minRxMs) ?? DEFAULT_BFD.minRxMs,
    minTxMs: ms('minTxMs', DEFAULT_BFD.minTxMs) ?? DEFAULT_BFD.minTxMs,
    ...(idleTxMs === undefined ? {} : { idleTxMs }),
    multiplier: raw.multiplier === undefined ? DEFAULT_BFD.multiplier : (r.integer('bfd.multiplier', raw.multiplier, 1, 255) ?? DEFAULT_BFD.multiplier),
  };
}

function readNeighbor(r: Reader, raw: unknown, i: number): NeighborConfig | undefined {
  const f = `neighbors[${i}]`;
  if (!isRecord(raw)) return r.fail(f, 'must be a mapping with name, address and asn');
  r.keys(f, raw, NEIGHBOR_KEYS);
  const name = typeof raw.name === 'string' && NAME_PATTERN.test(raw.name) ? raw.name : r.fail(`${f}.name`, `must be 1..40 letters, digits or underscores (it names the BIRD protocol), got ${JSON.stringify(raw.name)}`);
  const address = r.ip(`${f}.address`, raw.address);
  const asn = r.integer(`${f}.asn`, raw.asn, 1, MAX_ASN);
  const sourceAddress = raw.sourceAddress === undefined ? undefined : r.ip(`${f}.sourceAddress`, raw.sourceAddress);
  if (address !== undefined && sourceAddress !== undefined && address.family !== sourceAddress.family) r.fail(`${f}.sourceAddress`, 'must be of the same address family as address');
  const port = r.optionalInteger(`${f}.port`, raw.port, 1, 65535);
  const bfd = r.boolean(`${f}.bfd`, raw.bfd, false);
  let password: string | undefined;
  if (raw.password !== undefined) {
    if (isSafeBirdString(raw.password) && raw.password.length >= 1 && raw.password.length <= 80) password = raw.password;
    else r.fail(`${f}.password`, 'must be 1..80 printable ASCII characters without " and \\');
  }
  let multihop: number | undefined;
  if (raw.multihop === true) multihop = 64;
  else if (raw.multihop !== undefined && raw.multihop !== false) multihop = r.integer(`${f}.multihop`, raw.multihop, 1, 255);
  const holdTime = raw.holdTime === 0 ? 0 : r.optionalInteger(`${f}.holdTime`, raw.holdTime, 3, 65535);
  const keepaliveTime = r.optionalInteger(`${f}.keepaliveTime`, raw.keepaliveTime, 1, 65535);
  const connectRetryTime = r.optionalInteger(`${f}.connectRetryTime`, raw.connectRetryTime, 1, 65535);
  const connectDelayTime = r.optionalInteger(`${f}.connectDelayTime`, raw.connectDelayTime, 1, 65535);
  let errorWaitTime: { min: number; max: number } | undefined;
  if (raw.errorWaitTime !== undefined) {
    const w = raw.errorWaitTime;
    const min = isRecord(w) ? r.integer(`${f}.errorWaitTime.min`, w.min, 1, 65535) : undefined;
    const max = isRecord(w) ? r.integer(`${f}.errorWaitTime.max`, w.max, 1, 65535) : undefined;
    if (!isRecord(w)) r.fail(`${f}.errorWaitTime`, 'must be a mapping { min, max } (seconds)');
    else r.keys(`${f}.errorWaitTime`, w, ['min', 'max']);
    if (min !== undefined && max !== undefined) {
      if (min > max) r.fail(`${f}.errorWaitTime`, `min (${min}) must not exceed max (${max})`);
      else errorWaitTime = { min, max };
    }
  }
  if (bfd && multihop !== undefined && sourceAddress === undefined) r.fail(`${f}.sourceAddress`, 'is required for a multihop session with BFD (BIRD needs the local address of a multihop BFD session)');
  if (name === undefined || address === undefined || asn === undefined) return undefined;
  const opt = <K extends keyof NeighborConfig>(key: K, value: NeighborConfig[K] | undefined): Partial<NeighborConfig> => (value === undefined ? {} : { [key]: value });
  return {
    name,
    address,
    asn,
    bfd,
    ...opt('sourceAddress', sourceAddress),
    ...opt('port', port),
    ...opt('password', password),
    ...opt('multihop', multihop),
    ...opt('holdTime', holdTime),
    ...opt('keepaliveTime', keepaliveTime),
    ...opt('connectRetryTime', connectRetryTime),
    ...opt('connectDelayTime', connectDelayTime),
    ...opt('errorWaitTime', errorWaitTime),
  };
}

/** Validates a parsed YAML/JSON document; throws AnnouncerConfigError listing every problem. */
export function announcerConfigFromObject(raw: unknown): AnnouncerConfig {
  const r = new Reader();
  if (!isRecord(raw)) throw new AnnouncerConfigError([{ field: '(document)', message: 'must be a mapping' }]);
  r.keys('', raw, TOP_KEYS);
  const localAsn = r.integer('localAsn', raw.localAsn, 1, MAX_ASN);
  const routerId = raw.routerId === undefined ? undefined : r.ip('routerId', raw.routerId, 'inet');

  // Optional: the VIP ranges come from the VipPools; these are owned on top of them.
  const cidrs: Cidr[] = [];
  if (raw.cidrs !== undefined && raw.cidrs !== null && !Array.isArray(raw.cidrs)) r.fail('cidrs', 'must be a list of CIDRs, e.g. [10.96.100.0/24] (or left out: the VipPools give the VIP ranges)');
  else
    (raw.cidrs ?? []).forEach((c: unknown, i) => {
      try {
        const cidr = parseCidr(c);
        if (!cidrs.some((x) => x.text === cidr.text)) cidrs.push(cidr);
      } catch (e) {
        r.fail(`cidrs[${i}]`, e instanceof InvalidCidrError ? e.message : String(e));
      }
    });

  const neighbors: NeighborConfig[] = [];
  if (!Array.isArray(raw.neighbors) || raw.neighbors.length === 0) r.fail('neighbors', 'must list at least one BGP neighbor');
  else
    raw.neighbors.forEach((n: unknown, i) => {
      const neighbor = readNeighbor(r, n, i);
      if (neighbor === undefined) return;
      if (neighbors.some((x) => x.name === neighbor.name)) r.fail(`neighbors[${i}].name`, `"${neighbor.name}" is used twice`);
      else neighbors.push(neighbor);
    });

  const bfd = readBfd(r, raw.bfd);
  const gracefulRestart = r.boolean('gracefulRestart', raw.gracefulRestart, false);
  const outputFile = r.path('outputFile', raw.outputFile);
  const birdSocket = r.path('birdSocket', raw.birdSocket);
  const birdConfig = raw.birdConfig === undefined ? undefined : r.path('birdConfig', raw.birdConfig);
  if (outputFile !== undefined && outputFile === birdConfig) r.fail('outputFile', 'must not be the main BIRD config (birdConfig): the main config includes it');

  if (r.problems.length > 0 || localAsn === undefined || outputFile === undefined || birdSocket === undefined) {
    throw new AnnouncerConfigError(r.problems);
  }
  return {
    localAsn,
    ...(routerId === undefined ? {} : { routerId }),
    cidrs,
    neighbors,
    bfd,
    gracefulRestart,
    outputFile,
    birdSocket,
    ...(birdConfig === undefined ? {} : { birdConfig }),
  };
}

/**
 * Parses the YAML text of a config file; throws AnnouncerConfigError. With `env`, `${NAME}`
 * references in string values are expanded first (see expandEnvironment).
 */
export function parseAnnouncerConfig(text: string, env?: Readonly<Record<string, string | undefined>>): AnnouncerConfig {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new AnnouncerConfigError([{ field: '(document)', message: `not valid YAML: ${e instanceof Error ? e.message : String(e)}` }]);
  }
  return announcerConfigFromObject(env === undefined ? doc : expandEnvironment(doc, env));
}

// EndpointSlices read into what the resolver needs: per Service, the slices' families, ports
// and endpoints with their conditions. Never throws; unreadable parts are skipped.
import { asArray, asPort, asString, endpointSliceServiceKey, prop } from '@balanced/k8s';
import { dottedQuadValue } from '../dotted-quad.js';
import { canonicalIp, type IpFamily } from './address.js';

export interface SlicePort {
  /** '' when unnamed. */
  readonly name: string;
  /** As written ('TCP' when absent, the API default). */
  readonly protocol: string;
  readonly port: number;
}

export interface SliceEndpoint {
  /** Canonical text of the endpoint's first address (consumers may use only the first: EndpointSlice API). */
  readonly address: string;
  readonly nodeName: string | undefined;
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
}

export interface SliceView {
  readonly family: IpFamily;
  readonly ports: readonly SlicePort[];
  readonly endpoints: readonly SliceEndpoint[];
}

/**
 * Slices by "<namespace>/<service name>" (label `kubernetes.io/service-name`). A Service key is
 * present as soon as one slice names it, even one whose addressType (FQDN, garbage) gives no view:
 * that is what makes a selector-less Service with manually managed slices resolvable.
 */
export function slicesByService(endpointSlices: readonly unknown[], read: (raw: unknown) => SliceView | undefined = readSlice): Map<string, SliceView[]> {
  const out = new Map<string, SliceView[]>();
  for (const raw of asArray(endpointSlices)) {
    const key = endpointSliceServiceKey(raw);
    if (key === undefined) continue;
    const list = out.get(key) ?? [];
    out.set(key, list);
    const view = read(raw);
    if (view !== undefined) list.push(view);
  }
  return out;
}

function sliceFamily(addressType: unknown): IpFamily | undefined {
  return addressType === 'IPv4' || addressType === 'IPv6' ? addressType : undefined; // FQDN: ignored
}

/** One slice, or undefined when its addressType is not IPv4/IPv6. */
export function readSlice(raw: unknown): SliceView | undefined {
  const family = sliceFamily(prop(raw, 'addressType'));
  if (family === undefined) return undefined;
  const ports: SlicePort[] = [];
  for (const p of asArray(prop(raw, 'ports'))) {
    const port = asPort(prop(p, 'port')); // no number: "all ports", which a socket rewrite cannot use
    if (port === undefined) continue;
    const protocol = prop(p, 'protocol');
    if (protocol !== undefined && protocol !== null && typeof protocol !== 'string') continue;
    ports.push({ name: asString(prop(p, 'name')) ?? '', protocol: protocol ?? 'TCP', port });
  }
  const endpoints: SliceEndpoint[] = [];
  for (const e of asArray(prop(raw, 'endpoints'))) {
    const address = endpointAddress(asArray(prop(e, 'addresses'))[0], family);
    if (address === undefined) continue;
    const conditions = prop(e, 'conditions');
    const ready = condition(conditions, 'ready', true); // nil = ready (EndpointConditions)
    endpoints.push({
      address,
      nodeName: asString(prop(e, 'nodeName')),
      ready,
      serving: condition(conditions, 'serving', ready), // nil: defer to ready
      terminating: condition(conditions, 'terminating', false), // nil = not terminating
    });
  }
  return { family, ports, endpoints };
}

/** canonicalIp(value).text when it is of `family` (an IPv4 dotted quad is its own canonical text: no object read). */
function endpointAddress(value: unknown, family: IpFamily): string | undefined {
  if (family === 'IPv4' && typeof value === 'string' && dottedQuadValue(value) >= 0) return value;
  const ip = canonicalIp(value);
  return ip === undefined || ip.family !== family ? undefined : ip.text;
}

/** A condition: absent (undefined/null) → the API's default; a non-boolean reads as false (never trust garbage). */
function condition(conditions: unknown, key: string, absent: boolean): boolean {
  const value = prop(conditions, key);
  if (value === undefined || value === null) return absent;
  return value === true;
}

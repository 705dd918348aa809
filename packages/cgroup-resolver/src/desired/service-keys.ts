// Keys of the desired services a Service port yields. A key names a *backend set*, not a
// frontend kind: one set may serve ClusterIP, external and NodePort frontends alike.
import type { Protocol } from '../model.js';
import type { IpFamily } from './address.js';

/**
 * Which endpoints a set holds: `all` (every usable endpoint: external addresses and NodePorts
 * always, ClusterIPs unless internalTrafficPolicy is Local) or `node-local` (ClusterIPs under
 * internalTrafficPolicy: Local).
 */
export type BackendSetKind = 'all' | 'node-local';

/**
 * `<namespace>/<name>:<port name or number>/<protocol> <family>[ node-local]`, e.g.
 * `default/web:http/TCP IPv4` and `default/web:http/TCP IPv4 node-local`. The all-endpoints
 * key sorts first, so when a Service switches to internalTrafficPolicy: Local the set that keeps
 * its backends keeps its id (the planner recovers ids in key order).
 */
export function serviceSetKey(
  namespace: string,
  name: string,
  portToken: string,
  protocol: Protocol,
  family: IpFamily,
  set: BackendSetKind,
): string {
  // join: one flat string (the index and the planner keep it in many maps).
  return [namespace, '/', name, ':', portToken, '/', protocol, ' ', family, set === 'all' ? '' : ` ${set}`].join('');
}

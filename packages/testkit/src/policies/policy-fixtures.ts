// LocalRedirectPolicy / BalancingPolicy objects as a user (or the API server) would send them:
// shared by the policies and policy-webhook tests.

export type Json = Record<string, unknown>;

export function lrp(name: string, spec: Json = {}, meta: Json = {}): Json {
  return {
    apiVersion: 'balanced.dev/v1alpha1',
    kind: 'LocalRedirectPolicy',
    metadata: { name, ...meta },
    spec: {
      frontend: { serviceMatcher: { namespace: 'kube-system', serviceName: 'kube-dns', toPorts: [{ port: 53, protocol: 'UDP', name: 'dns' }, { port: 53, protocol: 'TCP', name: 'dns-tcp' }] } },
      backend: { endpointSelector: { matchLabels: { 'k8s-app': 'node-local-dns' } }, toPorts: [{ port: 53, protocol: 'UDP', name: 'dns' }, { port: 53, protocol: 'TCP', name: 'dns-tcp' }] },
      ...spec,
    },
  };
}

export function bp(name: string, spec: Json = {}, meta: Json = {}): Json {
  return {
    apiVersion: 'balanced.dev/v1alpha1',
    kind: 'BalancingPolicy',
    metadata: { name, ...meta },
    spec: {
      frontend: { addressMatcher: { ip: '169.254.20.10', toPorts: [{ port: 80, protocol: 'TCP' }] } },
      backend: { addressEndpoint: { addresses: ['192.0.2.10', '192.0.2.11'], toPorts: [{ port: 8080, protocol: 'TCP' }] } },
      ...spec,
    },
  };
}

export const addressFrontend = (ip: string, ports: Json[] = [{ port: 80, protocol: 'TCP' }]): Json => ({ addressMatcher: { ip, toPorts: ports } });
export const serviceFrontend = (namespace: string, serviceName: string, toPorts?: Json[]): Json => ({ serviceMatcher: { namespace, serviceName, ...(toPorts !== undefined ? { toPorts } : {}) } });

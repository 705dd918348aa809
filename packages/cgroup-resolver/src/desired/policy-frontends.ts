// What a policy's frontend intercepts: per frontend port and address family, the addresses
// (the addressMatcher's ip, or the Service's ClusterIPs), the protocol and the backend port
// it is paired with. Ports pair by name and protocol (@balanced/policies pairs them when the
// frontend lists its ports; with a serviceMatcher that lists none, every Service port pairs
// here, by the same rule, with the backend ports).
import type { Policy, PolicyPort } from '@balanced/policies';
import type { Protocol, ResolverRefusal } from '../model.js';
import { canonicalIp, type IpFamily } from './address.js';
import { readService, type ServicePortView } from './service-read.js';

export interface PolicyPortPlan {
  readonly family: IpFamily;
  /** Frontend addresses of this family (canonical). */
  readonly addresses: readonly string[];
  readonly port: number;
  readonly protocol: Protocol;
  /** Where the backends listen (pod port, host port lookup key, fixed addresses' port). */
  readonly backendPort: number;
}

export interface PolicyFrontends {
  readonly plans: readonly PolicyPortPlan[];
  readonly refusals: readonly ResolverRefusal[];
}

/**
 * The frontend of an accepted policy. `service`: the cached Service a serviceMatcher names
 * (undefined when there is none; unused for an addressMatcher).
 */
export function policyFrontends(policy: Policy, service: unknown): PolicyFrontends {
  const object = { kind: policy.kind, name: policy.meta.name };
  const refusals: ResolverRefusal[] = [];
  const frontend = policy.frontend;
  if (frontend.type === 'address') {
    const ip = canonicalIp(frontend.ip);
    if (ip === undefined) {
      // parsePolicy accepts only addresses this reads: a guard, not a path.
      refusals.push({ object, reason: 'InvalidPolicy', message: `spec.frontend.addressMatcher.ip ${frontend.ip} is not an address the resolver can intercept; the policy is not applied` });
      return { plans: [], refusals };
    }
    const plans = (policy.pairs ?? []).map((p): PolicyPortPlan => ({ family: ip.family, addresses: [ip.text], port: p.frontend.port, protocol: p.frontend.protocol, backendPort: p.backend.port }));
    return { plans, refusals };
  }

  const named = `Service ${frontend.namespace}/${frontend.serviceName}`;
  if (service === undefined) {
    refusals.push({ object, reason: 'ServiceNotFound', message: `${named} does not exist; the policy takes over nothing until it does` });
    return { plans: [], refusals };
  }
  // A Service without selector is read too: a policy may take over one whose endpoints are managed by hand.
  const view = readService(service, true).view;
  if (view === undefined) {
    refusals.push({ object, reason: 'ServiceHasNoClusterIP', message: `${named} has no ClusterIP (headless, ExternalName, not allocated yet or unreadable); the policy takes over nothing` });
    return { plans: [], refusals };
  }
  const pairs: { port: number; protocol: Protocol; backendPort: number }[] = [];
  if (policy.pairs !== undefined) {
    for (const pair of policy.pairs) {
      const f = pair.frontend;
      if (!view.ports.some((p) => p.port === f.port && p.protocol === f.protocol)) {
        refusals.push({ object, reason: 'ServicePortNotFound', message: `${named} has no port ${f.port}/${f.protocol}; that frontend port is not taken over` });
        continue;
      }
      pairs.push({ port: f.port, protocol: f.protocol, backendPort: pair.backend.port });
    }
  } else {
    for (const sp of view.ports) {
      const backend = pairServicePort(sp, policy.backend.toPorts);
      if (backend !== undefined) pairs.push({ port: sp.port, protocol: sp.protocol, backendPort: backend.port });
    }
    if (pairs.length === 0) {
      refusals.push({
        object,
        reason: 'NoPortPairs',
        message: `no port of ${named} pairs with a backend port (ports pair by name and protocol; one unnamed backend port pairs with every Service port of its protocol); the policy takes over nothing`,
      });
    }
  }
  const plans: PolicyPortPlan[] = [];
  for (const pair of pairs) {
    for (const family of view.families) {
      const addresses = view.clusterIps.filter((ip) => ip.family === family).map((ip) => ip.text);
      plans.push({ family, addresses, ...pair });
    }
  }
  return { plans, refusals };
}

/**
 * The backend port a Service port pairs with when the frontend takes every port of the Service:
 * with one backend port, that port if the protocols agree and the names do not disagree (as
 * pairPorts pairs one port with one port); with several (all named: the parser insists), the
 * one of the same name and protocol.
 */
export function pairServicePort(servicePort: ServicePortView, backend: readonly PolicyPort[]): PolicyPort | undefined {
  const [only] = backend;
  if (backend.length === 1 && only !== undefined) {
    const agree = only.name === undefined || servicePort.name === '' || only.name === servicePort.name;
    return only.protocol === servicePort.protocol && agree ? only : undefined;
  }
  if (servicePort.name === '') return undefined;
  return backend.find((b) => b.name === servicePort.name && b.protocol === servicePort.protocol);
}

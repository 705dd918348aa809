// Parse an API object (anything: a cache entry, an AdmissionReview's object, a test's JSON)
// into a Policy, or a refusal listing every field to change. Never throws.

import { asString, prop, show } from '@balanced/k8s';

import { IP_HINT, policyIp } from './address.js';
import { POLICY_API_VERSION, POLICY_DEFAULTS, REDIRECT_MODES, policyKindOf } from './constants.js';
import { readMeta } from './meta.js';
import { checkNamedForService, pairPorts, parsePorts } from './ports.js';
import { readSelector } from './selector.js';
import type { BalancingBackend, Frontend, LocalRedirectPolicy, Policy, PolicyConfig, PolicyParse, PolicyPort, PolicyProblem, PortPair } from './types.js';

/** DNS-1123 label (namespaces). */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** DNS-1035 label (Service names). */
const SERVICE_NAME = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

function isObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function refuse(kind: string, name: string, problems: readonly PolicyProblem[]): PolicyParse {
  return { ok: false, refusal: { kind, name, problems, message: problems.map((p) => `${p.field}: ${p.message}`).join('; ') } };
}

export function parsePolicy(object: unknown): PolicyParse {
  try {
    return parseUnchecked(object);
  } catch (err) {
    // Unreachable by design (every read is defensive); a refusal is still better than a throw.
    const meta = readMetaSafe(object);
    return refuse(show(prop(object, 'kind')), meta, [{ field: '', message: `could not be read (${err instanceof Error ? err.message : show(err)}): resubmit it as a JSON object` }]);
  }
}

function readMetaSafe(object: unknown): string {
  try {
    return readMeta(object).name;
  } catch {
    return '';
  }
}

function parseUnchecked(object: unknown): PolicyParse {
  const rawKind = prop(object, 'kind');
  const kind = policyKindOf(rawKind);
  const meta = readMeta(object);
  const problems: PolicyProblem[] = [];
  if (!isObject(object)) return refuse(show(rawKind), meta.name, [{ field: '', message: `must be a JSON object, got ${show(object)}` }]);
  if (kind === undefined) return refuse(show(rawKind ?? ''), meta.name, [{ field: 'kind', message: `must be LocalRedirectPolicy or BalancingPolicy, got ${show(rawKind)}` }]);
  const apiVersion = prop(object, 'apiVersion');
  if (apiVersion !== POLICY_API_VERSION) problems.push({ field: 'apiVersion', message: `must be ${POLICY_API_VERSION}, got ${show(apiVersion)}` });
  if (meta.name === '') problems.push({ field: 'metadata.name', message: 'is missing: give the policy a name' });
  const spec = prop(object, 'spec');
  if (!isObject(spec)) return refuse(kind, meta.name, [...problems, { field: 'spec', message: 'is missing: add spec.frontend and spec.backend' }]);

  const frontend = parseFrontend(prop(spec, 'frontend'), problems);
  const config = parseConfig(prop(spec, 'config'), problems);
  const rawBackend = prop(spec, 'backend');
  if (!isObject(rawBackend)) {
    problems.push({ field: 'spec.backend', message: kind === 'LocalRedirectPolicy' ? 'is missing: add spec.backend {endpointSelector, toPorts}' : 'is missing: add spec.backend.serviceEndpoint or spec.backend.addressEndpoint' });
    return refuse(kind, meta.name, problems);
  }
  const backend = kind === 'LocalRedirectPolicy' ? parseRedirectBackend(rawBackend, problems) : parseBalancingBackend(rawBackend, problems);
  if (frontend === undefined || backend === undefined || problems.length > 0) return refuse(kind, meta.name, problems);

  let pairs: readonly PortPair[] | undefined;
  const backendField = kind === 'LocalRedirectPolicy' ? 'spec.backend.toPorts' : `spec.backend.${(backend as BalancingBackend).type}.toPorts`;
  if (frontend.toPorts === undefined) {
    checkNamedForService(backend.toPorts, backendField, problems);
  } else {
    const frontendField = `spec.frontend.${frontend.type === 'address' ? 'addressMatcher' : 'serviceMatcher'}.toPorts`;
    const paired = pairPorts(frontend.toPorts, backend.toPorts, { frontend: frontendField, backend: backendField });
    if (paired.ok) pairs = paired.pairs;
    else problems.push(...paired.problems);
  }
  if (problems.length > 0) return refuse(kind, meta.name, problems);

  const base = { meta, frontend, config, ...(pairs !== undefined ? { pairs } : {}) };
  const policy: Policy =
    kind === 'LocalRedirectPolicy'
      ? ({ kind, ...base, backend: backend as LocalRedirectPolicy['backend'] } satisfies LocalRedirectPolicy)
      : { kind, ...base, backend: backend as BalancingBackend };
  return { ok: true, policy };
}

function parseFrontend(value: unknown, problems: PolicyProblem[]): Frontend | undefined {
  const field = 'spec.frontend';
  if (!isObject(value)) {
    problems.push({ field, message: 'is missing: set exactly one of spec.frontend.addressMatcher {ip, toPorts} or spec.frontend.serviceMatcher {namespace, serviceName, toPorts}' });
    return undefined;
  }
  const address = prop(value, 'addressMatcher');
  const service = prop(value, 'serviceMatcher');
  const hasAddress = address !== undefined && address !== null;
  const hasService = service !== undefined && service !== null;
  if (hasAddress === hasService) {
    problems.push({
      field,
      message: hasAddress
        ? 'sets both addressMatcher and serviceMatcher: keep exactly one of them'
        : 'sets neither addressMatcher nor serviceMatcher: set exactly one of them',
    });
    return undefined;
  }
  if (hasAddress) {
    const at = `${field}.addressMatcher`;
    if (!isObject(address)) {
      problems.push({ field: at, message: `must be an object {ip, toPorts}, got ${show(address)}` });
      return undefined;
    }
    const rawIp = prop(address, 'ip');
    const ip = policyIp(rawIp);
    if (ip === undefined) problems.push({ field: `${at}.ip`, message: `${rawIp === undefined ? 'is missing' : `${show(rawIp)} is not an IP address`}: ${IP_HINT}` });
    const toPorts = parsePorts(prop(address, 'toPorts'), `${at}.toPorts`, problems, true);
    return ip === undefined ? undefined : { type: 'address', ip, toPorts };
  }
  const at = `${field}.serviceMatcher`;
  if (!isObject(service)) {
    problems.push({ field: at, message: `must be an object {namespace, serviceName, toPorts}, got ${show(service)}` });
    return undefined;
  }
  const namespace = asString(prop(service, 'namespace'));
  const serviceName = asString(prop(service, 'serviceName'));
  let ok = true;
  if (namespace === undefined || !DNS_LABEL.test(namespace)) {
    problems.push({ field: `${at}.namespace`, message: `must be the Service's namespace (a DNS label such as kube-system), got ${show(prop(service, 'namespace'))}` });
    ok = false;
  }
  if (serviceName === undefined || !SERVICE_NAME.test(serviceName)) {
    problems.push({ field: `${at}.serviceName`, message: `must be the Service's name (a DNS-1035 label such as kube-dns), got ${show(prop(service, 'serviceName'))}` });
    ok = false;
  }
  const rawPorts = prop(service, 'toPorts');
  const toPorts: PolicyPort[] | undefined = rawPorts === undefined || rawPorts === null ? undefined : parsePorts(rawPorts, `${at}.toPorts`, problems, false);
  if (toPorts !== undefined && toPorts.length === 0 && Array.isArray(rawPorts) && rawPorts.length === 0) {
    problems.push({ field: `${at}.toPorts`, message: 'is empty: list the Service ports to take over, or leave toPorts out to take every port' });
  }
  if (!ok || namespace === undefined || serviceName === undefined) return undefined;
  return { type: 'service', namespace, serviceName, ...(toPorts !== undefined ? { toPorts } : {}) };
}

function parseConfig(value: unknown, problems: PolicyProblem[]): PolicyConfig {
  const field = 'spec.config';
  if (value === undefined || value === null) return { enableOutCluster: POLICY_DEFAULTS.enableOutCluster };
  if (!isObject(value)) {
    problems.push({ field, message: `must be an object {nodeLabelSelector, enableOutCluster}, got ${show(value)}` });
    return { enableOutCluster: POLICY_DEFAULTS.enableOutCluster };
  }
  const out = prop(value, 'enableOutCluster') ?? POLICY_DEFAULTS.enableOutCluster;
  if (typeof out !== 'boolean') problems.push({ field: `${field}.enableOutCluster`, message: `must be true or false, got ${show(out)}` });
  const nodeLabelSelector = readSelector(prop(value, 'nodeLabelSelector'), `${field}.nodeLabelSelector`, problems, { required: false });
  return { enableOutCluster: out === true, ...(nodeLabelSelector !== undefined ? { nodeLabelSelector } : {}) };
}

function parseRedirectBackend(value: unknown, problems: PolicyProblem[]): LocalRedirectPolicy['backend'] | undefined {
  const field = 'spec.backend';
  const before = problems.length;
  const endpointSelector = readSelector(prop(value, 'endpointSelector'), `${field}.endpointSelector`, problems, { required: true });
  const toPorts = parsePorts(prop(value, 'toPorts'), `${field}.toPorts`, problems, true);
  return endpointSelector === undefined || problems.length > before ? undefined : { endpointSelector, toPorts };
}

function parseBalancingBackend(value: unknown, problems: PolicyProblem[]): BalancingBackend | undefined {
  const field = 'spec.backend';
  const service = prop(value, 'serviceEndpoint');
  const address = prop(value, 'addressEndpoint');
  const hasService = service !== undefined && service !== null;
  const hasAddress = address !== undefined && address !== null;
  if (hasService === hasAddress) {
    problems.push({
      field,
      message: hasService
        ? 'sets both serviceEndpoint and addressEndpoint: keep exactly one of them'
        : 'sets neither serviceEndpoint nor addressEndpoint: set exactly one of them',
    });
    return undefined;
  }
  const before = problems.length;
  if (hasService) {
    const at = `${field}.serviceEndpoint`;
    if (!isObject(service)) {
      problems.push({ field: at, message: `must be an object {endpointSelector, toPorts, redirectMode}, got ${show(service)}` });
      return undefined;
    }
    const endpointSelector = readSelector(prop(service, 'endpointSelector'), `${at}.endpointSelector`, problems, { required: true });
    const toPorts = parsePorts(prop(service, 'toPorts'), `${at}.toPorts`, problems, true);
    const rawMode = prop(service, 'redirectMode') ?? POLICY_DEFAULTS.redirectMode;
    const redirectMode = REDIRECT_MODES.find((m) => m === rawMode);
    if (redirectMode === undefined) problems.push({ field: `${at}.redirectMode`, message: `must be one of ${REDIRECT_MODES.join(', ')}, got ${show(rawMode)}` });
    if (endpointSelector === undefined || redirectMode === undefined || problems.length > before) return undefined;
    return { type: 'serviceEndpoint', endpointSelector, toPorts, redirectMode };
  }
  const at = `${field}.addressEndpoint`;
  if (!isObject(address)) {
    problems.push({ field: at, message: `must be an object {addresses, toPorts}, got ${show(address)}` });
    return undefined;
  }
  const rawAddresses = prop(address, 'addresses');
  const addresses: string[] = [];
  if (!Array.isArray(rawAddresses) || rawAddresses.length === 0) {
    problems.push({ field: `${at}.addresses`, message: `${rawAddresses === undefined ? 'is missing' : 'must be a non-empty list'}: list the backend IP addresses, e.g. [192.0.2.10, 192.0.2.11]` });
  } else {
    rawAddresses.forEach((raw: unknown, i) => {
      const ip = policyIp(raw);
      if (ip === undefined) problems.push({ field: `${at}.addresses[${i}]`, message: `${show(raw)} is not an IP address: ${IP_HINT}` });
      else if (addresses.includes(ip)) problems.push({ field: `${at}.addresses[${i}]`, message: `${show(raw)} is listed twice (as ${ip}): remove the duplicate` });
      else addresses.push(ip);
    });
  }
  const toPorts = parsePorts(prop(address, 'toPorts'), `${at}.toPorts`, problems, true);
  if (problems.length > before) return undefined;
  return { type: 'addressEndpoint', addresses, toPorts };
}

// deploy/policy-crds.yaml and deploy/policy-webhook.yaml against the code: the schema is
// structural and declares what the parser reads with the same defaults, every CEL rule has
// a violating example that the webhook's validator refuses too (no Kubernetes CEL evaluator
// is available to node; see the report), and the webhook manifests match the server.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, test } from '@jest/globals';
import { POLICY_DEFAULTS, POLICY_GROUP, POLICY_RESOURCES, POLICY_VERSION, parsePolicy } from '@balanced/policies';
import { findRepoRoot } from '@balanced/testkit';
import { parseAllDocuments } from 'yaml';

import { validate } from '../src/review.js';
import { parseAdmissionReview } from '../src/admission-review.js';
import { reviewFor } from './client.js';
import { addressFrontend, bp, lrp, serviceFrontend, type Json } from '@balanced/testkit';

// YAML documents, read loosely: the assertions are the type checks.
type Doc = Record<string, any>;

function load(path: string): Doc[] {
  const text = readFileSync(join(findRepoRoot(), path), 'utf8');
  return parseAllDocuments(text).map((d) => {
    if (d.errors.length > 0) throw new Error(`${path}: ${d.errors.map((e) => e.message).join('; ')}`);
    return d.toJS() as Doc;
  });
}

const crds = load('deploy/policy-crds.yaml');
const crdOf = (kind: string): Doc => crds.find((c) => c['spec'].names.kind === kind)!;
const schemaOf = (kind: string): Doc => crdOf(kind)['spec'].versions[0].schema.openAPIV3Schema;

/** Every schema node below the root says its type (structural schema), walking properties/items/additionalProperties. */
function untyped(node: Doc, path: string, out: string[]): string[] {
  if (typeof node['type'] !== 'string') out.push(path);
  for (const [k, v] of Object.entries((node['properties'] ?? {}) as Record<string, Doc>)) untyped(v, `${path}.${k}`, out);
  if (node['items'] !== undefined) untyped(node['items'] as Doc, `${path}[]`, out);
  if (typeof node['additionalProperties'] === 'object') untyped(node['additionalProperties'] as Doc, `${path}{}`, out);
  return out;
}

/** Every x-kubernetes-validations rule in the schema, with where it is. */
function rules(node: Doc, path: string, out: { path: string; rule: string; message: string }[]): typeof out {
  for (const r of (node['x-kubernetes-validations'] ?? []) as { rule: string; message: string }[]) out.push({ path, rule: r.rule, message: r.message });
  for (const [k, v] of Object.entries((node['properties'] ?? {}) as Record<string, Doc>)) rules(v, `${path}.${k}`, out);
  if (node['items'] !== undefined) rules(node['items'] as Doc, `${path}[]`, out);
  return out;
}

const refusedByWebhook = (object: Json): boolean => {
  const parsed = parseAdmissionReview(reviewFor(object));
  if (!parsed.ok) throw new Error(parsed.message);
  return !validate(parsed.request, []).verdict.allowed;
};

describe('deploy/policy-crds.yaml', () => {
  test.each(Object.values(POLICY_RESOURCES))('$kind: names, scope, version and status subresource are what the code uses', (r) => {
    const crd = crdOf(r.kind);
    expect(crd['metadata'].name).toBe(`${r.plural}.${POLICY_GROUP}`);
    expect(crd['spec']).toMatchObject({ group: POLICY_GROUP, scope: 'Cluster', names: { plural: r.plural, singular: r.singular, kind: r.kind, shortNames: [...r.shortNames] } });
    expect(crd['spec'].versions).toHaveLength(1);
    expect(crd['spec'].versions[0]).toMatchObject({ name: POLICY_VERSION, served: true, storage: true, subresources: { status: {} } });
  });

  test.each(Object.values(POLICY_RESOURCES))('$kind: the schema is structural and the status has observedGeneration, Condition list-map and per-node counts', (r) => {
    const schema = schemaOf(r.kind);
    expect(untyped(schema, '', [])).toEqual([]);
    const status = schema['properties'].status;
    expect(status.properties.observedGeneration).toMatchObject({ type: 'integer' });
    expect(status.properties.conditions).toMatchObject({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] });
    expect(status.properties.conditions.items.required).toEqual(['type', 'status', 'lastTransitionTime', 'reason', 'message']);
    expect(status.properties.nodes).toMatchObject({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['node'] });
    expect(new RegExp(status.properties.conditions.items.properties.reason.pattern as string).test('FrontendClaimed')).toBe(true);
  });

  test('the spec declares the fields the parser reads, with the same defaults', () => {
    const lrpSpec = schemaOf('LocalRedirectPolicy')['properties'].spec;
    const bpSpec = schemaOf('BalancingPolicy')['properties'].spec;
    for (const spec of [lrpSpec, bpSpec]) {
      expect(Object.keys(spec.properties).sort()).toEqual(['backend', 'config', 'frontend']);
      expect(spec.required).toEqual(['frontend', 'backend']);
      expect(Object.keys(spec.properties.frontend.properties).sort()).toEqual(['addressMatcher', 'serviceMatcher']);
      expect(Object.keys(spec.properties.config.properties).sort()).toEqual(['enableOutCluster', 'nodeLabelSelector']);
      expect(spec.properties.config.properties.enableOutCluster.default).toBe(POLICY_DEFAULTS.enableOutCluster);
      expect(spec.properties.frontend.properties.addressMatcher.properties.toPorts.items.properties.protocol).toMatchObject({ default: POLICY_DEFAULTS.protocol, enum: ['TCP', 'UDP'] });
    }
    expect(Object.keys(lrpSpec.properties.backend.properties).sort()).toEqual(['endpointSelector', 'toPorts']);
    expect(Object.keys(bpSpec.properties.backend.properties).sort()).toEqual(['addressEndpoint', 'serviceEndpoint']);
    expect(bpSpec.properties.backend.properties.serviceEndpoint.properties.redirectMode).toMatchObject({ default: POLICY_DEFAULTS.redirectMode, enum: ['podEndpoint', 'hostPort', 'nodeProxy'] });
  });

  test('every CEL rule has a violating example, and the webhook validator refuses each example too', () => {
    const selector = { matchLabels: { a: 'b' } };
    // One example per rule text (the rule is the key; a new rule without an example fails here).
    const examples: Record<string, Json[]> = {
      'has(self.addressMatcher) != has(self.serviceMatcher)': [lrp('x', { frontend: {} }), bp('x', { frontend: { ...addressFrontend('10.0.0.1'), ...serviceFrontend('a', 'b') } })],
      'has(self.serviceEndpoint) != has(self.addressEndpoint)': [bp('x', { backend: {} })],
      'isIP(self)': [bp('x', { frontend: addressFrontend('10.0.0.0/24') }), bp('x', { backend: { addressEndpoint: { addresses: ['010.0.0.1'], toPorts: [{ port: 1 }] } } }), bp('x', { frontend: addressFrontend('fe80::1%eth0') })],
      'self >= 1 && self <= 65535': [bp('x', { frontend: addressFrontend('10.0.0.1', [{ port: 0 }]) }), bp('x', { frontend: addressFrontend('10.0.0.1', [{ port: 65536 }]) })],
      'self.all(p, self.exists_one(q, q.port == p.port && q.protocol == p.protocol))': [bp('x', { frontend: addressFrontend('10.0.0.1', [{ port: 80, name: 'a', protocol: 'TCP' }, { port: 80, name: 'b', protocol: 'TCP' }]) })],
      "self.operator in ['In', 'NotIn'] ? has(self.values) && size(self.values) > 0 : !has(self.values) || size(self.values) == 0": [lrp('x', { backend: { endpointSelector: { matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }, toPorts: [{ port: 53 }] } })],
      '(has(self.matchLabels) && size(self.matchLabels) > 0) || (has(self.matchExpressions) && size(self.matchExpressions) > 0)': [lrp('x', { backend: { endpointSelector: {}, toPorts: [{ port: 53 }] } }), bp('x', { backend: { serviceEndpoint: { endpointSelector: { matchLabels: {} }, toPorts: [{ port: 1 }] } } })],
    };
    const all = [...rules(schemaOf('LocalRedirectPolicy'), 'lrp', []), ...rules(schemaOf('BalancingPolicy'), 'bp', [])];
    expect([...new Set(all.map((r) => r.rule))].sort()).toEqual(Object.keys(examples).sort());
    for (const r of all) expect(r.message.length).toBeGreaterThan(20);
    for (const [rule, list] of Object.entries(examples)) {
      for (const example of list) expect({ rule, refused: refusedByWebhook(example) }).toEqual({ rule, refused: true });
    }
    // and the examples differ from valid objects only where the rule looks
    expect(refusedByWebhook(lrp('x', { backend: { endpointSelector: selector, toPorts: [{ port: 53, protocol: 'UDP', name: 'dns' }, { port: 53, protocol: 'TCP', name: 'dns-tcp' }] } }))).toBe(false);
    expect(parsePolicy(bp('x')).ok).toBe(true);
  });
});

describe('deploy/policy-webhook.yaml', () => {
  const docs = load('deploy/policy-webhook.yaml');
  const byKind = (kind: string): Doc[] => docs.filter((d) => d['kind'] === kind);
  const plurals = Object.values(POLICY_RESOURCES).map((r) => r.plural).sort();

  test('RBAC: list and watch of the two policy kinds, nothing else', () => {
    const role = byKind('ClusterRole')[0]!;
    expect(role['rules']).toEqual([{ apiGroups: [POLICY_GROUP], resources: expect.any(Array), verbs: ['list', 'watch'] }]);
    expect([...role['rules'][0].resources].sort()).toEqual(plurals);
    expect(byKind('ClusterRoleBinding')[0]!['subjects']).toEqual([{ kind: 'ServiceAccount', name: 'balanced-policy-webhook', namespace: 'balanced-system' }]);
  });

  test('Deployment (2 replicas, PDB, TLS Secret mount, HTTPS probes) and Service agree', () => {
    const deployment = byKind('Deployment')[0]!;
    expect(deployment['spec'].replicas).toBe(2);
    expect(byKind('PodDisruptionBudget')[0]!['spec']).toMatchObject({ minAvailable: 1, selector: deployment['spec'].selector });
    const pod = deployment['spec'].template.spec;
    expect(pod.serviceAccountName).toBe('balanced-policy-webhook');
    const container = pod.containers[0];
    const certDir = (container.args as string[]).find((a) => a.startsWith('--cert-dir='))!.split('=')[1];
    expect(container.volumeMounts).toContainEqual({ name: 'tls', mountPath: certDir, readOnly: true });
    expect(pod.volumes).toContainEqual({ name: 'tls', secret: { secretName: 'balanced-policy-webhook-tls' } });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'https', scheme: 'HTTPS' });
    const port = Number((container.args as string[]).find((a) => a.startsWith('--port='))!.split('=')[1]);
    expect(container.ports).toContainEqual({ name: 'https', containerPort: port });
    const service = byKind('Service')[0]!;
    expect(service['spec'].selector).toEqual(deployment['spec'].selector.matchLabels);
    expect(service['spec'].ports).toEqual([{ name: 'https', port: 443, targetPort: 'https' }]);
  });

  test.each([
    ['MutatingWebhookConfiguration', '/mutate'],
    ['ValidatingWebhookConfiguration', '/validate'],
  ])('%s: v1 reviews, the policy kinds, CREATE and UPDATE, side-effect free, bounded', (kind, path) => {
    const config = byKind(kind)[0]!;
    expect(config['webhooks']).toHaveLength(1);
    const hook = config['webhooks'][0];
    expect(hook).toMatchObject({ admissionReviewVersions: ['v1'], sideEffects: 'None', matchPolicy: 'Equivalent', timeoutSeconds: 5, failurePolicy: kind.startsWith('Validating') ? 'Fail' : 'Ignore' });
    expect(hook.clientConfig.service).toEqual({ namespace: 'balanced-system', name: byKind('Service')[0]!['metadata'].name, path, port: 443 });
    expect(hook.clientConfig.caBundle).toBe('');
    expect(hook.rules).toHaveLength(1);
    expect(hook.rules[0]).toMatchObject({ apiGroups: [POLICY_GROUP], apiVersions: [POLICY_VERSION], operations: ['CREATE', 'UPDATE'], scope: 'Cluster' });
    expect([...hook.rules[0].resources].sort()).toEqual(plurals);
  });
});

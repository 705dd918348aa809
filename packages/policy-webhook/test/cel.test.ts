// The CRDs' CEL rules (x-kubernetes-validations) evaluated by a CEL interpreter
// (@marcbachmann/cel-js), the way the API server applies them: at each schema node where the
// value is present, with `self` bound to it, after defaulting. Kubernetes' own CEL libraries
// are Go-only; the one Kubernetes extension the rules use, isIP() (Kubernetes 1.31+), is stood
// in for here by node's net.isIP without zones and IPv4-mapped IPv6, as Kubernetes documents
// it (close to, not proven the same as, Kubernetes' parser). So this proves the rules parse,
// sit at the right nodes and say yes/no on the examples; it does not prove Kubernetes' isIP.

import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';

import { describe, expect, test } from '@jest/globals';
import { Environment } from '@marcbachmann/cel-js';
import { defaultingPatch } from '@balanced/policies';
import { findRepoRoot, jsonPatch } from '@balanced/testkit';
import { parseAllDocuments } from 'yaml';

import { addressFrontend, bp, lrp, serviceFrontend, type Json } from '@balanced/testkit';

type Schema = Record<string, any>;
const crds = parseAllDocuments(readFileSync(join(findRepoRoot(), 'deploy/policy-crds.yaml'), 'utf8')).map((d) => d.toJS() as Schema);
const schemaOf = (kind: string): Schema => crds.find((c) => c['spec'].names.kind === kind)!['spec'].versions[0].schema.openAPIV3Schema;

const env = new Environment({ unlistedVariablesAreDyn: true })
  .registerVariable('self', 'dyn')
  .registerFunction('isIP(string): bool', (s: string) => isIP(s) !== 0 && !s.includes('%') && !/^::ffff:[0-9.]+$/i.test(s));

/** JSON as CEL sees it: integers are int (bigint). */
function toCel(value: unknown): unknown {
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  if (Array.isArray(value)) return Array.from(value as unknown[], toCel); // rebuilt here: structuredClone (in jsonPatch) makes arrays of another realm, which cel-js does not recognise
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toCel(v)]));
  return value;
}

interface Failure {
  readonly path: string;
  readonly rule: string;
  readonly message: string;
}

/** Evaluate every rule under `node` against `value`; the rules that said no. */
function violations(node: Schema, value: unknown, path: string, out: Failure[] = []): Failure[] {
  if (value === undefined || value === null) return out;
  for (const r of (node['x-kubernetes-validations'] ?? []) as { rule: string; message: string }[]) {
    if (env.evaluate(r.rule, { self: toCel(value) }) !== true) out.push({ path, rule: r.rule, message: r.message });
  }
  if (node['properties'] !== undefined && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, child] of Object.entries(node['properties'] as Record<string, Schema>)) violations(child, (value as Record<string, unknown>)[k], `${path}.${k}`, out);
  }
  if (node['items'] !== undefined && Array.isArray(value)) value.forEach((v, i) => violations(node['items'] as Schema, v, `${path}[${i}]`, out));
  return out;
}

/** What the API server validates: the object after defaulting (our mutating patch = the schema defaults). */
function check(object: Json): Failure[] {
  const defaulted = jsonPatch(object, defaultingPatch(object)) as Json;
  return violations(schemaOf(defaulted['kind'] as string), defaulted, '');
}

describe('CEL rules of deploy/policy-crds.yaml', () => {
  test('every rule parses and type-checks', () => {
    const walk = (node: Schema, out: string[]): string[] => {
      for (const r of (node['x-kubernetes-validations'] ?? []) as { rule: string }[]) out.push(r.rule);
      for (const child of Object.values((node['properties'] ?? {}) as Record<string, Schema>)) walk(child, out);
      if (node['items'] !== undefined) walk(node['items'] as Schema, out);
      return out;
    };
    const all = [...walk(schemaOf('LocalRedirectPolicy'), []), ...walk(schemaOf('BalancingPolicy'), [])];
    expect(all.length).toBeGreaterThanOrEqual(14);
    for (const rule of all) expect({ rule, valid: env.check(rule).valid }).toEqual({ rule, valid: true });
  });

  test('valid policies pass every rule', () => {
    expect(check(lrp('node-dns'))).toEqual([]);
    expect(check(bp('ext'))).toEqual([]);
    expect(check(bp('pods', { frontend: serviceFrontend('default', 'web'), backend: { serviceEndpoint: { endpointSelector: { matchExpressions: [{ key: 'app', operator: 'Exists' }] }, toPorts: [{ port: 8080 }] } } }))).toEqual([]);
    expect(check(bp('v6', { frontend: addressFrontend('fd00::10'), backend: { addressEndpoint: { addresses: ['2001:db8::1'], toPorts: [{ port: 80, protocol: 'UDP' }, { port: 80, protocol: 'TCP' }] } } }))).toEqual([]);
  });

  test.each<[string, Json, string, string]>([
    ['no frontend', lrp('x', { frontend: {} }), '.spec.frontend', 'exactly one of spec.frontend.addressMatcher or spec.frontend.serviceMatcher'],
    ['two frontends', bp('x', { frontend: { ...addressFrontend('10.0.0.1'), ...serviceFrontend('a', 'b') } }), '.spec.frontend', 'exactly one'],
    ['no backend kind', bp('x', { backend: {} }), '.spec.backend', 'exactly one of spec.backend.serviceEndpoint or spec.backend.addressEndpoint'],
    ['two backend kinds', bp('x', { backend: { serviceEndpoint: { endpointSelector: { matchLabels: { a: 'b' } }, toPorts: [{ port: 1 }] }, addressEndpoint: { addresses: ['192.0.2.1'], toPorts: [{ port: 1 }] } } }), '.spec.backend', 'exactly one'],
    ['a CIDR as frontend ip', bp('x', { frontend: addressFrontend('10.0.0.0/24') }), '.spec.frontend.addressMatcher.ip', 'no prefix length'],
    ['a zone', bp('x', { frontend: addressFrontend('fe80::1%eth0') }), '.spec.frontend.addressMatcher.ip', 'no zone'],
    ['leading zeros', bp('x', { frontend: addressFrontend('010.0.0.1') }), '.spec.frontend.addressMatcher.ip', 'no leading zeros'],
    ['a name as backend address', bp('x', { backend: { addressEndpoint: { addresses: ['192.0.2.1', 'db.example'], toPorts: [{ port: 1 }] } } }), '.spec.backend.addressEndpoint.addresses[1]', 'one IP address'],
    ['port 0', bp('x', { frontend: addressFrontend('10.0.0.1', [{ port: 0 }]) }), '.spec.frontend.addressMatcher.toPorts[0].port', 'from 1 to 65535'],
    ['port 65536', lrp('x', { backend: { endpointSelector: { matchLabels: { a: 'b' } }, toPorts: [{ port: 65536 }] } }), '.spec.backend.toPorts[0].port', 'from 1 to 65535'],
    ['a duplicate port', bp('x', { frontend: addressFrontend('10.0.0.1', [{ port: 80, name: 'a' }, { port: 80, protocol: 'TCP', name: 'b' }]) }), '.spec.frontend.addressMatcher.toPorts', 'remove the duplicate'],
    ['an empty endpointSelector', lrp('x', { backend: { endpointSelector: {}, toPorts: [{ port: 53 }] } }), '.spec.backend.endpointSelector', 'every pod in every namespace'],
    ['In without values', bp('x', { config: { nodeLabelSelector: { matchExpressions: [{ key: 'zone', operator: 'In' }] } } }), '.spec.config.nodeLabelSelector.matchExpressions[0]', 'In and NotIn need values'],
    ['Exists with values', lrp('x', { backend: { endpointSelector: { matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }, toPorts: [{ port: 53 }] } }), '.spec.backend.endpointSelector.matchExpressions[0]', 'take none'],
  ])('%s is refused at the right node, with a message saying what to change', (_name, object, path, words) => {
    const failures = check(object);
    expect(failures.map((f) => f.path)).toEqual([path]);
    expect(failures[0]?.message).toContain(words);
  });
});

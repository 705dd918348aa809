// The webhook over real HTTPS (certificate from a test CA, verified by the client), with
// AdmissionReview v1 bodies as the API server sends them, learning existing policies from
// the test API server through the real cluster cache.

import { afterAll, beforeAll, describe, expect, test, jest } from '@jest/globals';
import { jsonPatch, type TestApiServer } from '@balanced/testkit';

import { admit, httpsRequest, reviewFor } from './client.js';
import { addressFrontend, bp, lrp, serviceFrontend, type Json } from '@balanced/testkit';
import { startApiServer, startTestWebhook, type Webhook } from './harness.js';
import { waitFor } from './poll.js';
import { SecretDir, createTestCa, opensslAvailable, type TestCa } from '@balanced/testkit';

// openssl key generation and a real cache sync run on a shared 2-core machine: deadlines, not timings.
jest.setTimeout(30_000);

const HAVE_OPENSSL = opensslAvailable();
if (!HAVE_OPENSSL) {
  if (process.env['CI'] === 'true') throw new Error('openssl is required (apt-get install openssl)');
  process.stderr.write('SKIPPED: policy-webhook HTTPS tests: no openssl CLI to make a test CA\n');
}
const suite = HAVE_OPENSSL ? describe : describe.skip;

let ca: TestCa;
let secret: SecretDir;
let api: TestApiServer;
let hook: Webhook;
let url: string;

beforeAll(async () => {
  if (!HAVE_OPENSSL) return;
  ca = createTestCa();
  secret = new SecretDir(ca.issue('balanced-policy-webhook.balanced-system.svc'));
  api = await startApiServer();
  hook = await startTestWebhook(api, secret.dir);
  url = hook.running.webhook.url;
  await waitFor(() => hook.running.cache.synced(), 'the policy cache to sync');
});

afterAll(async () => {
  if (!HAVE_OPENSSL) return;
  await hook.stop();
  await api.stop();
  secret.cleanup();
  ca.cleanup();
});

const validate = (object: Json, operation: 'CREATE' | 'UPDATE' = 'CREATE', old?: Json) => admit(url, ca.caCert, '/validate', reviewFor(object, operation, old));

async function expectDenied(object: Json, ...words: string[]): Promise<string> {
  const r = await validate(object);
  expect(r.allowed).toBe(false);
  const message = r.status?.message ?? '';
  for (const w of words) expect(message).toContain(w);
  return message;
}

/** Store a policy in the API server and wait until the webhook's cache holds it. */
async function store(object: Json): Promise<void> {
  const kind = object['kind'] === 'BalancingPolicy' ? 'balancingpolicies' : 'localredirectpolicies';
  api.store.put(kind, object);
  const name = (object['metadata'] as { name: string }).name;
  const list = (): readonly unknown[] => (kind === 'balancingpolicies' ? hook.running.cache.balancingPolicies() : hook.running.cache.localRedirectPolicies());
  await waitFor(() => list().some((o) => (o as { metadata?: { name?: string } }).metadata?.name === name), `${kind}/${name} in the webhook's cache`);
}

suite('validating endpoint', () => {
  test('valid policies of both kinds are allowed', async () => {
    expect(await validate(lrp('node-dns'))).toMatchObject({ allowed: true });
    expect(await validate(bp('external-db'))).toMatchObject({ allowed: true });
    expect(await validate(bp('pods', { backend: { serviceEndpoint: { endpointSelector: { matchLabels: { app: 'web' } }, toPorts: [{ port: 8080 }], redirectMode: 'hostPort' } } }))).toMatchObject({ allowed: true });
  });

  test('every rejection rule answers 422 Invalid with what to change', async () => {
    const r = await validate(lrp('both', { frontend: { ...addressFrontend('10.0.0.1'), ...serviceFrontend('a', 'b') } }));
    expect(r).toMatchObject({ allowed: false, status: { code: 422, reason: 'Invalid' } });
    expect(r.status?.message).toBe('LocalRedirectPolicy "both" is invalid: spec.frontend: sets both addressMatcher and serviceMatcher: keep exactly one of them');
    await expectDenied(lrp('none', { frontend: {} }), 'set exactly one of them');
    await expectDenied(bp('two-backends', { backend: { serviceEndpoint: { endpointSelector: { matchLabels: { a: 'b' } }, toPorts: [{ port: 1 }] }, addressEndpoint: { addresses: ['192.0.2.1'], toPorts: [{ port: 1 }] } } }), 'spec.backend', 'keep exactly one');
    await expectDenied(bp('no-backend', { backend: {} }), 'set exactly one');
    await expectDenied(bp('bad-ip', { frontend: addressFrontend('10.0.0.0/24') }), 'spec.frontend.addressMatcher.ip', 'is not an IP address', 'no prefix length');
    await expectDenied(bp('mapped', { frontend: addressFrontend('::ffff:10.0.0.1') }), 'not IPv4-mapped');
    await expectDenied(bp('bad-port', { frontend: addressFrontend('10.0.0.1', [{ port: 70000 }]) }), 'from 1 to 65535');
    await expectDenied(lrp('unpaired', { frontend: serviceFrontend('kube-system', 'kube-dns', [{ port: 53, protocol: 'UDP', name: 'dns' }, { port: 53, protocol: 'TCP', name: 'dns-tcp' }]), backend: { endpointSelector: { matchLabels: { a: 'b' } }, toPorts: [{ port: 53, protocol: 'UDP', name: 'dns' }, { port: 53, protocol: 'TCP', name: 'tcp' }] } }),
      'port "dns-tcp" (TCP) has no backend port with the same name and protocol', 'rename it to match', 'port "tcp" (TCP) has no frontend port');
    await expectDenied(lrp('protocol', { frontend: serviceFrontend('kube-system', 'kube-dns', [{ port: 53, protocol: 'UDP' }]), backend: { endpointSelector: { matchLabels: { a: 'b' } }, toPorts: [{ port: 53, protocol: 'TCP' }] } }), 'use the same protocol on both sides');
    await expectDenied(bp('dup-ports', { frontend: addressFrontend('10.0.0.1', [{ port: 80, name: 'a' }, { port: 80, name: 'b' }]) }), '80/TCP twice', 'remove the duplicate');
    await expectDenied(bp('dup-addresses', { backend: { addressEndpoint: { addresses: ['2001:db8::1', '2001:DB8:0::1'], toPorts: [{ port: 8080 }] } } }), 'listed twice', 'remove the duplicate');
    await expectDenied(lrp('empty-selector', { backend: { endpointSelector: {}, toPorts: [{ port: 53 }] } }), 'would select every pod', 'add matchLabels');
  });

  test('a frontend another policy holds is refused, naming that policy', async () => {
    await store(lrp('node-local-dns'));
    const r = await validate(lrp('second-dns'));
    expect(r).toMatchObject({ allowed: false, status: { code: 409, reason: 'Conflict' } });
    expect(r.status?.message).toBe(
      'LocalRedirectPolicy "second-dns": frontend service kube-system/kube-dns port 53/UDP is already claimed by LocalRedirectPolicy "node-local-dns": change spec.frontend to another address, Service or port, or delete LocalRedirectPolicy "node-local-dns" first',
    );
    // the same policy updating itself is not a conflict; another kind on the same frontend is not either (lookup order decides)
    expect(await validate(lrp('node-local-dns'), 'UPDATE', lrp('node-local-dns'))).toMatchObject({ allowed: true });
    expect(await validate(bp('balance-dns', { frontend: serviceFrontend('kube-system', 'kube-dns') }))).toMatchObject({ allowed: true });
    // a different port of the same Service is free
    expect(await validate(lrp('metrics', { frontend: serviceFrontend('kube-system', 'kube-dns', [{ port: 9153 }]), backend: { endpointSelector: { matchLabels: { a: 'b' } }, toPorts: [{ port: 9253 }] } }))).toMatchObject({ allowed: true });
  });

  test('an update that moves onto a held frontend is refused; one that keeps an old overlap is not', async () => {
    await store(bp('vip-a', { frontend: addressFrontend('10.9.0.1') }));
    await store(bp('vip-b', { frontend: addressFrontend('10.9.0.2') }));
    const moved = await validate(bp('vip-b', { frontend: addressFrontend('10.9.0.1') }), 'UPDATE', bp('vip-b', { frontend: addressFrontend('10.9.0.2') }));
    expect(moved.allowed).toBe(false);
    expect(moved.status?.message).toContain('already claimed by BalancingPolicy "vip-a"');
    // vip-c overlapped vip-a already when it was stored (admitted at the same moment): editing it is allowed
    await store(bp('vip-c', { frontend: addressFrontend('10.9.0.1') }));
    expect(await validate(bp('vip-c', { frontend: addressFrontend('10.9.0.1'), config: { enableOutCluster: true } }), 'UPDATE', bp('vip-c', { frontend: addressFrontend('10.9.0.1') }))).toMatchObject({ allowed: true });
  });

  test('other kinds and DELETE pass untouched', async () => {
    const review = reviewFor(lrp('x', { frontend: {} }));
    (review['request'] as Json)['kind'] = { group: '', version: 'v1', kind: 'Service' };
    expect(await admit(url, ca.caCert, '/validate', review)).toMatchObject({ allowed: true });
    expect(await admit(url, ca.caCert, '/validate', reviewFor(lrp('gone'), 'DELETE', lrp('gone')))).toMatchObject({ allowed: true });
  });
});

suite('mutating endpoint', () => {
  test('sets the defaults as a JSON Patch that the object takes', async () => {
    const object = bp('defaults', { backend: { serviceEndpoint: { endpointSelector: { matchLabels: { app: 'web' } }, toPorts: [{ port: 8080 }] } } });
    const r = await admit(url, ca.caCert, '/mutate', reviewFor(object));
    expect(r).toMatchObject({ allowed: true, patchType: 'JSONPatch' });
    const patch = JSON.parse(Buffer.from(r.patch ?? '', 'base64').toString('utf8')) as unknown;
    const patched = jsonPatch(object, patch) as { spec: Json };
    expect(patched.spec).toMatchObject({
      frontend: { addressMatcher: { toPorts: [{ port: 80, protocol: 'TCP' }] } },
      backend: { serviceEndpoint: { redirectMode: 'podEndpoint', toPorts: [{ port: 8080, protocol: 'TCP' }] } },
      config: { enableOutCluster: false },
    });
    const again = await admit(url, ca.caCert, '/mutate', reviewFor(patched as Json));
    expect(again).toEqual({ uid: expect.any(String), allowed: true });
  });

  test('never refuses (an invalid object is the validating endpoint\'s to refuse)', async () => {
    expect(await admit(url, ca.caCert, '/mutate', reviewFor(lrp('broken', { frontend: 'nope' })))).toMatchObject({ allowed: true });
  });
});

suite('HTTP surface', () => {
  test('bad requests are refused with a reason; probes answer on HTTPS and on the metrics port', async () => {
    expect(await httpsRequest(`${url}/validate`, ca.caCert, { method: 'POST', body: 'not json' })).toMatchObject({ status: 400, body: 'the body is not JSON\n' });
    expect((await httpsRequest(`${url}/validate`, ca.caCert, { method: 'POST', body: '{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview"}' })).body).toContain('admissionReviewVersions: ["v1"]');
    expect(await httpsRequest(`${url}/validate`, ca.caCert, { method: 'POST', body: '{}', contentType: 'text/plain' })).toMatchObject({ status: 415 });
    expect(await httpsRequest(`${url}/validate`, ca.caCert)).toMatchObject({ status: 405 });
    expect(await httpsRequest(`${url}/nothing`, ca.caCert)).toMatchObject({ status: 404 });
    expect(await httpsRequest(`${url}/healthz`, ca.caCert)).toMatchObject({ status: 200, body: 'ok\n' });
    expect(await httpsRequest(`${url}/readyz`, ca.caCert)).toMatchObject({ status: 200 });
    const health = hook.running.health.url;
    expect(health.startsWith('http://127.0.0.1:')).toBe(true);
    expect((await fetch(`${health}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${health}/metrics`)).text();
    expect(metrics).toMatch(/balanced_policy_webhook_requests_total\{endpoint="validate",kind="LocalRedirectPolicy",operation="CREATE",result="denied"\} [1-9]/);
    expect(metrics).toMatch(/balanced_policy_webhook_denials_total\{reason="claimed"\} [1-9]/);
    expect(metrics).toMatch(/balanced_policy_webhook_requests_total\{endpoint="validate",kind="",operation="",result="bad_request"\} [1-9]/);
    expect(metrics).toMatch(/balanced_policy_webhook_certificate_expiry_timestamp_seconds [1-9]/);
  });
});

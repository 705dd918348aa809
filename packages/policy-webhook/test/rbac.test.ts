// deploy/policy-webhook.yaml's RBAC is enough, and no more: the webhook runs as its
// ServiceAccount against the test API server enforcing RBAC, lists and watches the policies,
// and may not write them.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, expect, test, jest } from '@jest/globals';
import { ApiException, CustomObjectsApi } from '@kubernetes/client-node';
import { TestApiServer, findRepoRoot } from '@balanced/testkit';
import { parseAllDocuments } from 'yaml';

import { admit, reviewFor } from './client.js';
import { lrp } from '@balanced/testkit';
import { POLICY_CRDS, startTestWebhook, type Webhook } from './harness.js';
import { waitFor } from './poll.js';
import { SecretDir, createTestCa, opensslAvailable, type TestCa } from '@balanced/testkit';

// openssl key generation and a real cache sync run on a shared 2-core machine: deadlines, not timings.
jest.setTimeout(30_000);

const HAVE_OPENSSL = opensslAvailable();
if (!HAVE_OPENSSL) {
  if (process.env['CI'] === 'true') throw new Error('openssl is required (apt-get install openssl)');
  process.stderr.write('SKIPPED: policy-webhook RBAC test: no openssl CLI to make a test CA\n');
}
const maybe = HAVE_OPENSSL ? test : test.skip;

const NS = 'balanced-system';
const SA = 'balanced-policy-webhook';
let ca: TestCa;
let secret: SecretDir;
let api: TestApiServer;
let hook: Webhook;

beforeAll(async () => {
  if (!HAVE_OPENSSL) return;
  ca = createTestCa();
  secret = new SecretDir(ca.issue('webhook'));
  api = await TestApiServer.start({ customResources: POLICY_CRDS, rbac: true, namespaces: ['default', 'kube-system', NS] });
  const docs = parseAllDocuments(readFileSync(join(findRepoRoot(), 'deploy/policy-webhook.yaml'), 'utf8')).map((d) => d.toJS() as unknown);
  const { loaded } = api.load(docs);
  expect(loaded).toEqual(expect.arrayContaining([`ServiceAccount/${NS}/${SA}`, `ClusterRole/${SA}`, `ClusterRoleBinding/${SA}`]));
  hook = await startTestWebhook(api, secret.dir, { kubeConfig: api.serviceAccountKubeConfig(NS, SA) });
});

afterAll(async () => {
  if (!HAVE_OPENSSL) return;
  await hook.stop();
  await api.stop();
  secret.cleanup();
  ca.cleanup();
});

maybe('as its ServiceAccount the webhook lists and watches policies, and cannot write them', async () => {
  await waitFor(() => hook.running.cache.synced(), 'the webhook cache to sync under RBAC');
  api.store.put('localredirectpolicies', lrp('node-local-dns'));
  await waitFor(() => hook.running.cache.localRedirectPolicies().length === 1, 'the watch to deliver the policy');
  const r = await admit(hook.running.webhook.url, ca.caCert, '/validate', reviewFor(lrp('second')));
  expect(r.status?.message).toContain('already claimed by LocalRedirectPolicy "node-local-dns"');

  const custom = api.serviceAccountKubeConfig(NS, SA).makeApiClient(CustomObjectsApi);
  const write = custom.createClusterCustomObject({ group: 'balanced.dev', version: 'v1alpha1', plural: 'localredirectpolicies', body: lrp('by-webhook') });
  await expect(write).rejects.toBeInstanceOf(ApiException);
  await expect(write).rejects.toMatchObject({ code: 403 });
  expect((await fetch(`${hook.running.health.url}/readyz`)).status).toBe(200);
});

// Two conflicting policies created at the same moment: both pass the webhook (neither is
// stored when the other is checked), both are stored, and every agent, reading them through
// its own cache in its own order, ends with exactly one Accepted: the same one.

import { afterAll, beforeAll, expect, test, jest } from '@jest/globals';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { createClusterCache, type ClusterCache } from '@balanced/k8s';
import { createdAtOf, parsePolicy, resolveConflicts, resolutionConditions, type Policy } from '@balanced/policies';
import { testKubeConfig, type TestApiServer } from '@balanced/testkit';
import { pino } from 'pino';

import { admit, reviewFor } from './client.js';
import { lrp, type Json } from '@balanced/testkit';
import { startApiServer, startTestWebhook, type Webhook } from './harness.js';
import { waitFor } from './poll.js';
import { SecretDir, createTestCa, opensslAvailable, type TestCa } from '@balanced/testkit';

// openssl key generation and a real cache sync run on a shared 2-core machine: deadlines, not timings.
jest.setTimeout(30_000);

const HAVE_OPENSSL = opensslAvailable();
if (!HAVE_OPENSSL) {
  if (process.env['CI'] === 'true') throw new Error('openssl is required (apt-get install openssl)');
  process.stderr.write('SKIPPED: policy-webhook race test: no openssl CLI to make a test CA\n');
}
const maybe = HAVE_OPENSSL ? test : test.skip;

let ca: TestCa;
let secret: SecretDir;
let api: TestApiServer;
let hook: Webhook;
const agents: ClusterCache[] = [];

beforeAll(async () => {
  if (!HAVE_OPENSSL) return;
  ca = createTestCa();
  secret = new SecretDir(ca.issue('webhook'));
  api = await startApiServer();
  hook = await startTestWebhook(api, secret.dir);
  await waitFor(() => hook.running.cache.synced(), 'the webhook cache to sync');
});

afterAll(async () => {
  if (!HAVE_OPENSSL) return;
  for (const a of agents) await a.stop();
  await hook.stop();
  await api.stop();
  secret.cleanup();
  ca.cleanup();
});

function policiesOf(cache: ClusterCache): Policy[] {
  return cache.localRedirectPolicies().flatMap((o) => {
    const r = parsePolicy(o);
    return r.ok ? [r.policy] : [];
  });
}

maybe('exactly one of two simultaneous conflicting policies is Accepted, on every agent', async () => {
  const a = lrp('dns-b');
  const b = lrp('dns-a');
  // 1. Both are checked before either is stored: both are admitted.
  const verdicts = await Promise.all([a, b].map((o) => admit(hook.running.webhook.url, ca.caCert, '/validate', reviewFor(o))));
  expect(verdicts.map((v) => v.allowed)).toEqual([true, true]);

  // 2. Both are created at the same moment (the API server stamps creationTimestamp, to the second).
  const custom = testKubeConfig(api.url).makeApiClient(CustomObjectsApi);
  await Promise.all([a, b].map((body) => custom.createClusterCustomObject({ group: 'balanced.dev', version: 'v1alpha1', plural: 'localredirectpolicies', body })));

  // 3. Three agents, each with its own cache; one reads the list reversed.
  for (let i = 0; i < 3; i++) {
    const cache = createClusterCache(testKubeConfig(api.url), { kinds: ['localredirectpolicies'], log: pino({ level: 'silent' }) });
    agents.push(cache);
    await cache.start();
  }
  await waitFor(() => agents.every((c) => c.localRedirectPolicies().length === 2), 'every agent to see both policies');
  const answers = agents.map((cache, i) => {
    const policies = policiesOf(cache);
    return resolveConflicts(i === 1 ? [...policies].reverse() : policies);
  });
  for (const answer of answers) {
    const accepted = answer.filter((r) => r.state === 'Accepted');
    expect(accepted).toHaveLength(1);
    expect(answer.map((r) => [r.policy.meta.name, r.state, r.state === 'Conflicted' ? r.winner.name : ''])).toEqual(
      answers[0]!.map((r) => [r.policy.meta.name, r.state, r.state === 'Conflicted' ? r.winner.name : '']),
    );
  }
  // The older wins; within the same second (the usual case here) the name decides: dns-a.
  const stored = agents[0]!.localRedirectPolicies().map((o) => (o as Json & { metadata: { name: string; creationTimestamp: unknown } }).metadata);
  const [first, second] = [...stored].sort((x, y) => (createdAtOf(x.creationTimestamp) ?? 0) - (createdAtOf(y.creationTimestamp) ?? 0) || (x.name < y.name ? -1 : 1));
  const winner = answers[0]!.find((r) => r.state === 'Accepted')!;
  expect(winner.policy.meta.name).toBe(first!.name);
  const loser = answers[0]!.find((r) => r.state === 'Conflicted')!;
  expect(loser.policy.meta.name).toBe(second!.name);
  const conflicted = resolutionConditions(loser, new Date().toISOString()).find((c) => c.type === 'Conflicted');
  expect(conflicted).toMatchObject({ status: 'True', reason: 'FrontendClaimed' });
  expect(conflicted?.message).toContain(`LocalRedirectPolicy/${first!.name}`);

  // 4. Now that both are stored, a third one is refused, naming both holders.
  await waitFor(() => hook.running.cache.localRedirectPolicies().length === 2, 'the webhook cache to see both');
  const third = await admit(hook.running.webhook.url, ca.caCert, '/validate', reviewFor(lrp('dns-c')));
  expect(third.allowed).toBe(false);
  expect(third.status?.message).toContain(`already claimed by LocalRedirectPolicy "${first!.name}" and LocalRedirectPolicy "${second!.name}"`);
});

// Certificate reload: the Secret volume is updated as kubelet updates it (..data swap); new
// connections get the new certificate, a broken pair is refused and the old one stays.

import { afterAll, beforeAll, expect, test, jest } from '@jest/globals';
import type { TestApiServer } from '@balanced/testkit';

import { httpsRequest } from './client.js';
import { startApiServer, startTestWebhook, type Webhook } from './harness.js';
import { waitFor } from './poll.js';
import { SecretDir, createTestCa, opensslAvailable, type TestCa } from '@balanced/testkit';

// openssl key generation and a real cache sync run on a shared 2-core machine: deadlines, not timings.
jest.setTimeout(30_000);

const HAVE_OPENSSL = opensslAvailable();
if (!HAVE_OPENSSL) {
  if (process.env['CI'] === 'true') throw new Error('openssl is required (apt-get install openssl)');
  process.stderr.write('SKIPPED: policy-webhook certificate tests: no openssl CLI to make a test CA\n');
}
const maybe = HAVE_OPENSSL ? test : test.skip;

let ca: TestCa;
let api: TestApiServer;

beforeAll(async () => {
  if (!HAVE_OPENSSL) return;
  ca = createTestCa();
  api = await startApiServer();
});

afterAll(async () => {
  if (!HAVE_OPENSSL) return;
  await api.stop();
  ca.cleanup();
});

async function metric(hook: Webhook, line: RegExp): Promise<number> {
  const text = await (await fetch(`${hook.running.health.url}/metrics`)).text();
  const m = text.split('\n').find((l) => line.test(l));
  return m === undefined ? 0 : Number(m.split(' ').pop());
}

maybe('a rotated Secret is served to new connections; a mismatched pair is refused and the old certificate stays', async () => {
  const first = ca.issue('first');
  const secret = new SecretDir(first);
  const hook = await startTestWebhook(api, secret.dir);
  try {
    const url = `${hook.running.webhook.url}/healthz`;
    expect((await httpsRequest(url, ca.caCert)).fingerprint).toBe(first.fingerprint);

    const second = ca.issue('second');
    secret.write(second);
    await waitFor(() => hook.running.keyPair().cert.equals(second.cert), 'the webhook to load the rotated certificate');
    expect((await httpsRequest(url, ca.caCert)).fingerprint).toBe(second.fingerprint);
    expect(await metric(hook, /^balanced_policy_webhook_certificate_reloads_total\{result="ok"\}/)).toBe(2); // start + rotation

    const third = ca.issue('third');
    secret.write({ cert: third.cert, key: first.key }); // a key that is not the certificate's
    let failed = 0;
    await waitFor(() => {
      void metric(hook, /^balanced_policy_webhook_certificate_reloads_total\{result="failed"\}/).then((n) => (failed = n));
      return failed > 0;
    }, 'the mismatched pair to be refused');
    expect(hook.logs.some((l) => l.includes('not a usable pair'))).toBe(true);
    expect((await httpsRequest(url, ca.caCert)).fingerprint).toBe(second.fingerprint);

    secret.write(third);
    await waitFor(() => hook.running.keyPair().cert.equals(third.cert), 'the webhook to load the repaired pair');
    expect((await httpsRequest(url, ca.caCert)).fingerprint).toBe(third.fingerprint);
  } finally {
    await hook.stop();
    secret.cleanup();
  }
});

maybe('without the CRDs listed, the webhook is not ready and refuses to judge conflicts (503), saying to retry', async () => {
  const bare = await startApiServer(false);
  const pair = ca.issue('bare');
  const secret = new SecretDir(pair);
  const hook = await startTestWebhook(bare, secret.dir);
  try {
    const { admit, reviewFor } = await import('./client.js');
    const { lrp } = await import('@balanced/testkit');
    const r = await admit(hook.running.webhook.url, ca.caCert, '/validate', reviewFor(lrp('early')));
    expect(r).toMatchObject({ allowed: false, status: { code: 503 } });
    expect(r.status?.message).toContain('retry in a few seconds');
    const ready = await httpsRequest(`${hook.running.webhook.url}/readyz`, ca.caCert);
    expect(ready.status).toBe(503);
    expect((await fetch(`${hook.running.health.url}/readyz`)).status).toBe(503);
  } finally {
    await hook.stop();
    await bare.stop();
    secret.cleanup();
  }
});

maybe('a missing certificate at start is an error that names the files', async () => {
  const { startWebhook } = await import('../src/app.js');
  const { pino } = await import('pino');
  await expect(startWebhook({ kubeConfig: api.kubeConfig(), host: '127.0.0.1', port: 0, certDir: '/nonexistent-dir', metricsHost: '127.0.0.1', metricsPort: 0 }, pino({ level: 'silent' }))).rejects.toThrow(/nonexistent-dir\/tls\.crt/);
});

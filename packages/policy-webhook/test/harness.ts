// The real webhook (startWebhook: client-node cluster cache, HTTPS server, metrics server)
// against the test API server serving the two policy CRDs.

import { Writable } from 'node:stream';

import { TestApiServer, testKubeConfig } from '@balanced/testkit';
import { POLICY_GROUP, POLICY_RESOURCES, POLICY_VERSION } from '@balanced/policies';
import { pino } from 'pino';

import { startWebhook, type RunningWebhook, type WebhookConfig } from '../src/app.js';

export const POLICY_CRDS = Object.values(POLICY_RESOURCES).map((r) => ({ group: POLICY_GROUP, version: POLICY_VERSION, plural: r.plural, kind: r.kind, namespaced: false }));

export function startApiServer(withCrds = true): Promise<TestApiServer> {
  return TestApiServer.start(withCrds ? { customResources: POLICY_CRDS } : {});
}

export interface Webhook {
  readonly running: RunningWebhook;
  readonly logs: string[];
  stop(): Promise<void>;
}

export async function startTestWebhook(server: TestApiServer, certDir: string, config: Partial<WebhookConfig> = {}): Promise<Webhook> {
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(chunk.toString('utf8').trimEnd());
      done();
    },
  });
  const running = await startWebhook(
    { kubeConfig: testKubeConfig(server.url), host: '127.0.0.1', port: 0, certDir, certPollMs: 0, metricsHost: '127.0.0.1', metricsPort: 0, restartDelayMs: { min: 20, max: 200 }, ...config },
    pino({ level: 'debug' }, sink),
  );
  return { running, logs, stop: () => running.stop() };
}

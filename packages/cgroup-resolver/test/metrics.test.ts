// The agent's metrics of a pass: map operations counted per kind and result.
import { expect, it } from '@jest/globals';
import type { PassReport } from '../src/agent.js';
import { ResolverMetrics } from '../src/metrics.js';

it('counts each planned op once, by kind and result (ok, error, skipped)', async () => {
  const ops = [{ op: 'backend-put' }, { op: 'backend-put' }, { op: 'backend-put' }, { op: 'service-put' }, { op: 'frontend-put' }];
  const report = {
    desired: { services: new Map(), frontends: [], refusals: [] },
    plan: { ops },
    apply: { writes: 4, failed: [{ op: ops[1], error: new Error('E2BIG') }], skipped: [ops[4]] },
    fullRead: true,
    destroyed: 0,
    ms: 1,
    step: { index: 0, of: 1 },
  } as unknown as PassReport;
  const metrics = new ResolverMetrics({ socketTermination: false });
  metrics.recordPass(report);
  metrics.recordPass(report);
  const text = await metrics.registry.getSingleMetricAsString('balanced_resolver_map_operations_total');
  const values = Object.fromEntries([...text.matchAll(/\{op="([^"]+)",result="([^"]+)"\} (\d+)/g)].map((m) => [`${m[1]} ${m[2]}`, Number(m[3])]));
  expect(values).toEqual({ 'backend-put ok': 4, 'backend-put error': 2, 'service-put ok': 2, 'frontend-put skipped': 2 });
});

it('counts each re-read that found the maps drifted', async () => {
  const metrics = new ResolverMetrics({ socketTermination: false });
  const value = async (): Promise<string> => (await metrics.registry.getSingleMetricAsString('balanced_resolver_maps_drift_total')).split('\n').filter((l) => !l.startsWith('#')).join();
  expect(await value()).toBe('balanced_resolver_maps_drift_total 0');
  metrics.recordDrift();
  metrics.recordDrift();
  expect(await value()).toBe('balanced_resolver_maps_drift_total 2');
});

import { expect, test } from '@jest/globals';
import { applyToModel, ControllerMetrics, dumpModel } from '../src/index.js';

test('kernel stats and programming counters are exported in Prometheus text', async () => {
  const m = new ControllerMetrics();
  const key = { protocol: 'tcp' as const, address: '10.96.0.1', port: 80 };
  const ops = [
    { op: 'add-service' as const, service: { key, scheduler: 'mh' } },
    { op: 'add-destination' as const, service: key, destination: { address: '10.244.0.1', port: 80, forwarding: 'tunnel' as const, weight: 1 } },
  ];
  const table = dumpModel(applyToModel([], ops));
  m.recordKernel(table);
  m.recordPass({ ops, failed: [{ op: ops[1]!, error: new Error('x') }], outcomeUnknown: true, durationMs: 12, vips: ['10.96.0.1'], pendingDrains: 0, read: 'full', planned: 1, failedServices: new Map([['tcp/10.96.0.1:80', key]]), recovered: [] });
  m.recordFailingServices(1);
  m.recordReady(true);
  const text = await m.registry.metrics();
  expect(text).toContain('balanced_ipvs_services 1');
  expect(text).toContain('balanced_ipvs_destination_weight{service="tcp/10.96.0.1:80",destination="10.244.0.1:80"} 1');
  expect(text).toContain('balanced_ipvs_operations_total{op="add-service",result="ok"} 1');
  expect(text).toContain('balanced_ipvs_operations_total{op="add-destination",result="error"} 1');
  expect(text).toContain('balanced_ipvs_outcome_unknown_total 1');
  expect(text).toContain('balanced_ipvs_sync_duration_seconds_count 1');
  expect(text).toContain('balanced_ipvs_failing_services 1');
  expect(text).toContain('balanced_ipvs_ready 1');
  // a second read replaces, not accumulates
  m.recordKernel([]);
  expect(await m.registry.metrics()).not.toContain('destination="10.244.0.1:80"');
});

test('kernel stats are read at scrape time, at most once per interval', async () => {
  const m = new ControllerMetrics();
  const key = { protocol: 'tcp' as const, address: '10.96.0.1', port: 80 };
  const table = dumpModel(applyToModel([], [{ op: 'add-service', service: { key, scheduler: 'mh' } }]));
  let reads = 0;
  let clock = 0;
  m.readKernelOnScrape(async () => (reads++, table), 10_000, () => clock);
  expect(await m.registry.metrics()).toContain('balanced_ipvs_services 1');
  await m.registry.metrics();
  expect(reads).toBe(1);
  clock = 10_001;
  await m.registry.metrics();
  expect(reads).toBe(2);
});

test('source-range refusals are read from the firewall counters on scrape', async () => {
  const m = new ControllerMetrics();
  let n = 5;
  m.readSourceRangeRefusals(async () => new Map([['tcp/10.96.0.10:80', n]]));
  expect(await m.registry.metrics()).toContain('balanced_ipvs_source_range_refused_packets_total{service="tcp/10.96.0.10:80"} 5');
  n = 7;
  expect(await m.registry.metrics()).toContain('balanced_ipvs_source_range_refused_packets_total{service="tcp/10.96.0.10:80"} 7');
});

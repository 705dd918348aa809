import { describe, expect, test } from '@jest/globals';
import { applyToModel, ControllerMetrics, dumpModel, type ActualService } from '../src/index.js';
import { controllerCommand, parseControllerArgs } from '../src/options.js';
import type { MetricNames } from '../src/metric-names.js';

const key = { protocol: 'tcp' as const, address: '10.96.0.1', port: 80 };
const ops = [
  { op: 'add-service' as const, service: { key, scheduler: 'mh' } },
  { op: 'add-destination' as const, service: key, destination: { address: '10.244.0.1', port: 80, forwarding: 'tunnel' as const, weight: 1 } },
];
const stats = (n: number) => ({ connections: n, packetsIn: 10 * n, packetsOut: 0, bytesIn: 1000 * n, bytesOut: 0, connectionsPerSecond: 0, packetsInPerSecond: 0, packetsOutPerSecond: 0, bytesInPerSecond: 0, bytesOutPerSecond: 0 });
/** The model's table with kernel stats as a dump reports them (stats64). */
function withStats(n: number): ActualService[] {
  return dumpModel(applyToModel([], ops)).map((s) => ({
    service: { ...s.service, stats64: stats(2 * n) },
    destinations: s.destinations.map((d) => ({ ...d, stats64: stats(n) })),
  }));
}
const names: MetricNames = (id) => (id === 'tcp/10.96.0.1:80' ? { namespace: 'shop', service: 'web', port: 'http', pod: (a) => (a === '10.244.0.1' ? 'web-7d9f-abcde' : '') } : undefined);
const SVC = 'virtual_service="tcp/10.96.0.1:80",namespace="shop",service="web",port="http"';
const DST = `${SVC},destination="10.244.0.1:80",pod="web-7d9f-abcde"`;

test('kernel stats and programming counters are exported in Prometheus text', async () => {
  const m = new ControllerMetrics();
  m.recordKernel(dumpModel(applyToModel([], ops)));
  m.recordPass({ ops, failed: [{ op: ops[1]!, error: new Error('x') }], outcomeUnknown: true, durationMs: 12, vips: ['10.96.0.1'], pendingDrains: 0, read: 'full', planned: 1, failedServices: new Map([['tcp/10.96.0.1:80', key]]), recovered: [] });
  m.recordFailingServices(1);
  m.recordReady(true);
  const text = await m.registry.metrics();
  expect(text).toContain('balanced_ipvs_services 1');
  // not named yet (no desired state given): the IPVS key alone, the Kubernetes labels empty
  expect(text).toContain('balanced_ipvs_destination_weight{virtual_service="tcp/10.96.0.1:80",namespace="",service="",port="",destination="10.244.0.1:80",pod=""} 1');
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

describe('kernel series', () => {
  test('are named after the Service port and the pod, and typed counter where the kernel value only grows', async () => {
    const m = new ControllerMetrics();
    m.nameWith(names);
    m.recordKernel(withStats(3));
    const text = await m.registry.metrics();
    for (const [name, value] of [
      ['balanced_ipvs_service_connections_total', 6],
      ['balanced_ipvs_service_packets_in_total', 60],
      ['balanced_ipvs_service_bytes_in_total', 6000],
      ['balanced_ipvs_service_packets_out_total', 0],
      ['balanced_ipvs_service_bytes_out_total', 0],
    ] as const) {
      expect(text).toContain(`# TYPE ${name} counter`);
      expect(text).toContain(`${name}{${SVC}} ${value}`);
    }
    for (const [name, value] of [
      ['balanced_ipvs_destination_connections_total', 3],
      ['balanced_ipvs_destination_packets_in_total', 30],
      ['balanced_ipvs_destination_bytes_in_total', 3000],
    ] as const) {
      expect(text).toContain(`# TYPE ${name} counter`);
      expect(text).toContain(`${name}{${DST}} ${value}`);
    }
    for (const [name, value] of [
      ['balanced_ipvs_destination_weight', 1],
      ['balanced_ipvs_destination_active_connections', 0],
      ['balanced_ipvs_destination_inactive_connections', 0],
    ] as const) {
      expect(text).toContain(`# TYPE ${name} gauge`);
      expect(text).toContain(`${name}{${DST}} ${value}`);
    }
    // Out counters of a destination are always 0 with direct server return: not exported.
    expect(text).not.toMatch(/balanced_ipvs_destination_(packets|bytes)_out/);
    expect(text).toContain('# TYPE balanced_ipvs_source_range_refused_packets_total counter');
  });

  test('a counter shows the kernel value of each read, never a sum of reads', async () => {
    const m = new ControllerMetrics();
    m.nameWith(names);
    m.recordKernel(withStats(3));
    await m.registry.metrics();
    m.recordKernel(withStats(5));
    const text = await m.registry.metrics();
    expect(text).toContain(`balanced_ipvs_destination_connections_total{${DST}} 5`);
    expect(text).toContain(`balanced_ipvs_service_connections_total{${SVC}} 10`);
  });

  test('perDestination false leaves only the per-virtual-service series', async () => {
    const m = new ControllerMetrics({ perDestination: false });
    m.nameWith(names);
    m.recordKernel(withStats(3));
    const text = await m.registry.metrics();
    expect(text).toContain(`balanced_ipvs_service_connections_total{${SVC}} 6`);
    expect(text).not.toContain('balanced_ipvs_destination_');
    expect(text).not.toContain('destination=');
  });

  test('series count: 5 per virtual service, 6 per destination', async () => {
    const table: ActualService[] = [];
    for (let s = 0; s < 4; s++) {
      const k = { protocol: 'tcp' as const, address: `10.96.0.${s + 1}`, port: 80 };
      const dests = [0, 1, 2].map((d) => ({ address: `10.244.${s}.${d}`, port: 80, forwarding: 'tunnel' as const, weight: 1 }));
      table.push(...dumpModel(applyToModel([], [{ op: 'add-service', service: { key: k, scheduler: 'mh' } }, ...dests.map((destination) => ({ op: 'add-destination' as const, service: k, destination }))])));
    }
    const count = async (m: ControllerMetrics) => {
      m.recordKernel(table);
      return (await m.registry.metrics()).split('\n').filter((l) => l.startsWith('balanced_ipvs_service_') || l.startsWith('balanced_ipvs_destination_')).length;
    };
    expect(await count(new ControllerMetrics())).toBe(4 * 5 + 12 * 6);
    expect(await count(new ControllerMetrics({ perDestination: false }))).toBe(4 * 5);
  });
});

describe('--metrics-per-destination', () => {
  const quiet = () => controllerCommand().exitOverride().configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
  test.each([
    [[], true],
    [['--metrics-per-destination'], true],
    [['--metrics-per-destination=true'], true],
    [['--metrics-per-destination=false'], false],
    [['--metrics-per-destination', 'false'], false],
  ])('%j → %s', (args, expected) => {
    expect(parseControllerArgs(args, quiet()).config.metricsPerDestination).toBe(expected);
  });
  test('anything but true or false is a usage error', () => {
    expect(() => parseControllerArgs(['--metrics-per-destination=no'], quiet())).toThrow(/true or false/);
  });
});

test('kernel stats are read at scrape time, at most once per interval', async () => {
  const m = new ControllerMetrics();
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

test('source-range refusals are read from the firewall counters on scrape, named like the other series', async () => {
  const m = new ControllerMetrics();
  m.nameWith(names);
  let n = 5;
  m.readSourceRangeRefusals(async () => new Map([['tcp/10.96.0.1:80', n]]));
  expect(await m.registry.metrics()).toContain(`balanced_ipvs_source_range_refused_packets_total{${SVC}} 5`);
  n = 7;
  expect(await m.registry.metrics()).toContain(`balanced_ipvs_source_range_refused_packets_total{${SVC}} 7`);
});

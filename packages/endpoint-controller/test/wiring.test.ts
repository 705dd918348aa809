import { describe, expect, test } from '@jest/globals';
import type { PodTarget } from '../src/index.js';
import { chooseResolver } from '../src/resolvers.js';
import { cidrOwnership, InvalidCidrError } from '@balanced/k8s';
import { EndpointMetrics } from '../src/metrics.js';
import { PodEventReporter, type EventSink } from '../src/event-reporter.js';
import { PodTunnelError } from '../src/errors.js';
import type { PodOutcome } from '../src/controller.js';

const target: PodTarget = { namespace: 'shop', name: 'web-0', uid: 'u0', podIP: '10.244.0.2', vips: ['10.96.0.10'], services: ['shop/web'] };
const programmed = (ops: number): PodOutcome => ({
  kind: 'programmed',
  target,
  purpose: 'program',
  result: { netns: '/run/netns/x', ops: ops ? [{ op: 'add-address', prefix: '10.96.0.10/32' }] : [], mtu: 1480, mss: 1440 },
});
const failed = (changed: boolean): PodOutcome => ({
  kind: 'failed',
  target,
  purpose: 'program',
  error: new PodTunnelError('NetnsNotFound', 'sandbox gone'),
  attempts: changed ? 1 : 2,
  retryInMs: 1000,
  changed,
});

describe('cidrOwnership', () => {
  test.each([
    ['10.96.0.1', true],
    ['10.96.1.1', false],
    ['not-an-ip', false],
  ])('%s → %s', (ip, expected) => expect(cidrOwnership(['10.96.0.0/24'])(ip)).toBe(expected));
  test('a bad CIDR is refused; none owns nothing', () => {
    expect(() => cidrOwnership(['10.96.0.0/33'])).toThrow(InvalidCidrError);
    expect(cidrOwnership([])('10.96.0.1')).toBe(false);
  });
});

describe('PodEventReporter', () => {
  test('an Event per change, per new failure, per appearance of an invalid opt-out', () => {
    const sent: string[] = [];
    const sink: EventSink = { record: async (o, type, reason, message) => void sent.push(`${o.kind}/${o.name}/${o.uid} ${type} ${reason}: ${message}`) };
    const r = new PodEventReporter(sink);
    r.pod(programmed(1));
    r.pod(programmed(0));
    r.pod(failed(true));
    r.pod(failed(false));
    const invalid = { pod: target, reason: 'InvalidTunnelIgnore' as const, message: 'balanced.dev/tunnel-ignore: "yes" is not a boolean' };
    r.skipped([invalid]);
    r.skipped([invalid, { pod: target, reason: 'HostNetwork', message: 'host' }]);
    r.skipped([]);
    r.skipped([invalid]);
    expect(sent).toEqual([
      'Pod/web-0/u0 Normal TunnelConfigured: tunl0: added VIP 10.96.0.10/32',
      'Pod/web-0/u0 Warning TunnelFailed: NetnsNotFound: sandbox gone (retrying)',
      'Pod/web-0/u0 Warning InvalidTunnelIgnore: balanced.dev/tunnel-ignore: "yes" is not a boolean',
      'Pod/web-0/u0 Warning InvalidTunnelIgnore: balanced.dev/tunnel-ignore: "yes" is not a boolean',
    ]);
  });
});

describe('EndpointMetrics', () => {
  test('errors by reason, operations by kind, pods and VIPs after each pass', async () => {
    const m = new EndpointMetrics();
    m.recordPod(programmed(1));
    m.recordPod(failed(true));
    m.recordPod(failed(false));
    m.recordPass({ durationMs: 12, visited: 3, changed: 1, failed: 2, skipped: [{ pod: target, reason: 'HostNetwork', message: '' }], pods: { programmed: 4, failing: 1, vips: 6 } });
    const text = await m.registry.metrics();
    expect(text).toContain('balanced_endpoint_errors_total{reason="NetnsNotFound"} 2');
    expect(text).toContain('balanced_endpoint_operations_total{op="add-address"} 1');
    expect(text).toContain('balanced_endpoint_pods_programmed 4');
    expect(text).toContain('balanced_endpoint_pods_failing 1');
    expect(text).toContain('balanced_endpoint_vips_configured 6');
    expect(text).toContain('balanced_endpoint_pods_skipped{reason="HostNetwork"} 1');
    expect(text).toContain('balanced_endpoint_pass_duration_seconds_count 1');
  });
});

describe('chooseResolver', () => {
  test('CRI when a socket exists (first one found), then the /proc scan; refuses when nothing is left', () => {
    const exists = (p: string) => p === '/var/run/crio/crio.sock';
    const both = chooseResolver({ criSockets: ['/run/containerd/containerd.sock', '/var/run/crio/crio.sock'], procScan: true, procRoot: '/host/proc', exists });
    expect(both.name).toBe('cri unix:///var/run/crio/crio.sock, then proc scan /host/proc');
    both.close?.();
    expect(chooseResolver({ criSockets: ['/run/containerd/containerd.sock'], procScan: true, procRoot: '/proc', exists }).name).toBe('proc scan /proc');
    expect(() => chooseResolver({ criSockets: ['/run/containerd/containerd.sock'], procScan: false, procRoot: '/proc', exists })).toThrow(/no way to find pod network namespaces/);
  });
});

describe('startEndpointController', () => {
  test('refuses to start with neither the VipPools nor --vip-cidr (it could never own a VIP)', async () => {
    const { pino } = await import('pino');
    const { startEndpointController } = await import('../src/app.js');
    const config = {
      nodeName: 'node-a',
      vipCidrs: [],
      defaultClass: false,
      criSockets: [],
      procScan: false,
      procRoot: '/proc',
      resyncSeconds: 60,
      metricsHost: '127.0.0.1',
      metricsPort: 0,
      kubeconfig: '/nonexistent/kubeconfig',
    };
    await expect(startEndpointController(config, pino({ level: 'silent' }))).rejects.toThrow(/no VIP range: read them from the VipPools .* or set --vip-cidr/);
  });
});

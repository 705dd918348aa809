// The announcer configs we ship (example/bird/vip-announcer.yaml, the ConfigMap of
// deploy/vip-announcer.yaml) parse, with the environment the DaemonSet provides.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { findRepoRoot } from '@balanced/testkit';
import { vipRangesFromPools, DEFAULT_METRICS_HOST, checkMetricsHost } from '@balanced/k8s';
import { cidrOwnership } from '@balanced/net';
import { parseAllDocuments } from 'yaml';
import { parseAnnouncerConfig, renderBirdConfig } from '../src/index.js';
import { deployConfigMap, deployContainer } from './shipped.js';

const ENV = { NODE_IP: '10.0.1.2', TOR_IP: '10.0.1.1' };

describe('shipped announcer configs', () => {
  test('example/bird/vip-announcer.yaml, with the VIP ranges of example/vippools.yaml', () => {
    const c = parseAnnouncerConfig(readFileSync(join(findRepoRoot(), 'example', 'bird', 'vip-announcer.yaml'), 'utf8'), ENV);
    expect(c.neighbors.map((n) => [n.name, n.address.text, n.sourceAddress?.text, n.bfd])).toEqual([['tor', '10.0.1.1', '10.0.1.2', true]]);
    expect(c.cidrs).toEqual([]); // the pools give the ranges
    const pools = parseAllDocuments(readFileSync(join(findRepoRoot(), 'example', 'vippools.yaml'), 'utf8')).map((d) => d.toJS() as unknown);
    const { cidrs } = vipRangesFromPools(pools, c.cidrs).set;
    // 10.96.100.0 - .254 (the reserved pool ends at .254), exactly: .255 is in no pool.
    expect(cidrs.map((x) => x.text)).toEqual(['10.96.100.0/25', '10.96.100.128/26', '10.96.100.192/27', '10.96.100.224/28', '10.96.100.240/29', '10.96.100.248/30', '10.96.100.252/31', '10.96.100.254/32', 'fd96:100::/120']);
    const rendered = renderBirdConfig({ ...c, cidrs }, [{ vip: '10.96.100.10', communities: [] }]);
    expect(rendered).toContain('route 10.96.100.10/32 blackhole;');
    expect(rendered).toContain('net ~ [ 10.96.100.0/25{32,32}, 10.96.100.128/26{32,32},');
  });

  test('the ConfigMap of deploy/vip-announcer.yaml', () => {
    const c = parseAnnouncerConfig(deployConfigMap('balanced-vip-announcer')['vip-announcer.yaml'] ?? '', ENV);
    expect(c.outputFile).toBe('/run/balanced/bird/balanced-vips.conf');
    expect(deployConfigMap('balanced-bird')['bird.conf']).toContain('include "/run/balanced/bird/*.conf";');
  });

  test('the DaemonSet listens for /metrics on loopback, never a VIP, and its probes ask there', () => {
    const c = parseAnnouncerConfig(deployConfigMap('balanced-vip-announcer')['vip-announcer.yaml'] ?? '', ENV);
    const container = deployContainer('vip-announcer');
    const host = container.args?.find((a) => a.startsWith('--metrics-host='))?.split('=')[1] ?? DEFAULT_METRICS_HOST;
    expect(checkMetricsHost(host, cidrOwnership(c.cidrs))).toBe('127.0.0.1');
    for (const probe of [container.readinessProbe, container.livenessProbe]) expect(probe?.httpGet?.host ?? 'the pod IP').toBe(host);
  });
});

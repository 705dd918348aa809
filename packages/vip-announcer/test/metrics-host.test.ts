// The health server never listens on a VIP (issue 13, item 2).
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { pino } from 'pino';
import { TestApiServer } from '@balanced/testkit';
import { cidrOwnership, parseCidr } from '@balanced/net';
import { announcerConfigFromObject, startAnnouncer } from '../src/index.js';
import { DEFAULT_METRICS_HOST, MetricsHostError, checkMetricsHost } from '@balanced/k8s';

const CIDRS = ['10.96.100.0/24', 'fd96::/64'];
const ownsVip = cidrOwnership(CIDRS.map((c) => parseCidr(c)));

describe('checkMetricsHost', () => {
  test('loopback by default; the node’s own address is fine', () => {
    expect(DEFAULT_METRICS_HOST).toBe('127.0.0.1');
    expect(checkMetricsHost('127.0.0.1', ownsVip)).toBe('127.0.0.1');
    expect(checkMetricsHost('::1', ownsVip)).toBe('::1');
    expect(checkMetricsHost('10.0.1.2', ownsVip)).toBe('10.0.1.2');
  });

  test('a VIP, a wildcard or a name is refused, saying why', () => {
    expect(() => checkMetricsHost('10.96.100.10', ownsVip)).toThrow(new MetricsHostError('--metrics-host 10.96.100.10 lies inside the VIP CIDRs: the health server never listens on a VIP'));
    expect(() => checkMetricsHost('fd96::10', ownsVip)).toThrow(/inside the VIP CIDRs/);
    expect(() => checkMetricsHost('::ffff:10.96.100.10', ownsVip)).toThrow(/inside the VIP CIDRs/);
    expect(() => checkMetricsHost('0.0.0.0', ownsVip)).toThrow(/is a wildcard: in host networking it would answer on every VIP/);
    expect(() => checkMetricsHost('::', ownsVip)).toThrow(/is a wildcard/);
    expect(() => checkMetricsHost('node1.example', ownsVip)).toThrow(/is not an IP address/);
  });

  test('property: every address inside the VIP CIDRs is refused', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), (last) => {
        expect(() => checkMetricsHost(`10.96.100.${last}`, ownsVip)).toThrow(MetricsHostError);
      }),
    );
  });

  test('startAnnouncer refuses a VIP before it starts anything, and listens on loopback by default', async () => {
    const api = await TestApiServer.start();
    const config = announcerConfigFromObject({
      localAsn: 65001,
      cidrs: ['10.96.100.0/24'],
      neighbors: [{ name: 'tor', address: '10.0.1.1', asn: 65000 }],
      outputFile: '/nonexistent/balanced-vips.conf',
      birdSocket: '/nonexistent/bird.ctl',
    });
    const log = pino({ level: 'silent' });
    try {
      await expect(startAnnouncer({ config, kubeConfig: api.kubeConfig(), defaultClass: false, metricsHost: '10.96.100.1', metricsPort: 0, watchPools: false }, log)).rejects.toThrow(MetricsHostError);
      const running = await startAnnouncer({ config, kubeConfig: api.kubeConfig(), defaultClass: false, controllerProbe: async () => false, metricsPort: 0, watchPools: false }, log);
      try {
        expect(running.health?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      } finally {
        await running.stop();
      }
    } finally {
      await api.stop();
    }
  });
});

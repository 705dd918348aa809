import { describe, expect, test } from '@jest/globals';
import { connect } from 'node:net';
import { Registry } from 'prom-client';
import { startHealthServer, checkMetricsHosts, MetricsHostError } from '@balanced/k8s';
import { cidrOwnership } from '../src/index.js';
import { controllerCommand, parseControllerArgs } from '../src/options.js';

const owns = cidrOwnership(['10.96.0.0/24', 'fd00:96::/64']);
const quiet = () => controllerCommand().exitOverride().configureOutput({ writeOut: () => undefined, writeErr: () => undefined });

describe('metrics address', () => {
  test('defaults to loopback only; --help says why', () => {
    expect(parseControllerArgs(['--vip-cidr', '10.96.0.0/24'], quiet()).config.metricsHost).toEqual(['127.0.0.1']);
    expect(quiet().helpInformation()).toMatch(/--metrics-host[\s\S]*loopback[\s\S]*Never\s+a\s+wildcard\s+or\s+a\s+VIP/);
  });

  test('several addresses (loopback for the announcer, the node address for kubelet and Prometheus)', () => {
    const { config } = parseControllerArgs(['--metrics-host', '127.0.0.1', '--metrics-host', '192.0.2.7'], quiet());
    expect(checkMetricsHosts(config.metricsHost, owns)).toEqual(['127.0.0.1', '192.0.2.7']);
  });

  test('wildcards, VIPs and names are refused with a reason', () => {
    for (const [host, why] of [
      ['0.0.0.0', /wildcard/],
      ['::', /wildcard/],
      ['10.96.0.10', /inside the VIP CIDRs/],
      ['fd00:96::1', /inside the VIP CIDRs/],
      ['node-1.example', /not an IP address/],
    ] as const) {
      expect(() => checkMetricsHosts(host, owns)).toThrow(MetricsHostError);
      expect(() => checkMetricsHosts(host, owns)).toThrow(why);
    }
    expect(() => checkMetricsHosts([], owns)).toThrow(MetricsHostError);
  });

  test('the default listener refuses a connection to another local address (loopback stand-in for a VIP)', async () => {
    const host = parseControllerArgs([], quiet()).config.metricsHost;
    const [first] = checkMetricsHosts(host, owns);
    const server = await startHealthServer({ port: 0, host: first as string, registry: new Registry(), ready: () => true });
    try {
      const port = Number(new URL(server.url).port);
      const attempt = (to: string) =>
        new Promise<string>((resolve) => {
          const s = connect({ host: to, port }, () => (s.destroy(), resolve('connected')));
          s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
        });
      expect(await attempt('127.0.0.1')).toBe('connected');
      expect(await attempt('127.0.0.2')).toBe('ECONNREFUSED');
    } finally {
      await server.close();
    }
  });
});

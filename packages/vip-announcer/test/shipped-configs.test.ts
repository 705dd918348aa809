// The announcer configs we ship (example/bird/vip-announcer.yaml, the ConfigMap of
// deploy/vip-announcer.yaml) parse, with the environment the DaemonSet provides.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { findRepoRoot } from '@balanced/testkit';
import { parseAnnouncerConfig, renderBirdConfig } from '../src/index.js';
import { deployConfigMap } from './shipped.js';

const ENV = { NODE_IP: '10.0.1.2', TOR_IP: '10.0.1.1' };

describe('shipped announcer configs', () => {
  test('example/bird/vip-announcer.yaml', () => {
    const c = parseAnnouncerConfig(readFileSync(join(findRepoRoot(), 'example', 'bird', 'vip-announcer.yaml'), 'utf8'), ENV);
    expect(c.neighbors.map((n) => [n.name, n.address.text, n.sourceAddress?.text, n.bfd])).toEqual([['tor', '10.0.1.1', '10.0.1.2', true]]);
    expect(renderBirdConfig(c, [{ vip: '10.96.100.10', communities: [] }])).toContain('route 10.96.100.10/32 blackhole;');
  });

  test('the ConfigMap of deploy/vip-announcer.yaml', () => {
    const c = parseAnnouncerConfig(deployConfigMap('balanced-vip-announcer')['vip-announcer.yaml'] ?? '', ENV);
    expect(c.outputFile).toBe('/run/balanced/bird/balanced-vips.conf');
    expect(deployConfigMap('balanced-bird')['bird.conf']).toContain('include "/run/balanced/bird/*.conf";');
  });
});

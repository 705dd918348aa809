// Every rendered file must be accepted by the real BIRD: `bird -p` (parse only) on a minimal
// main configuration that includes it, for every golden fixture and for random configs.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { findRepoRoot, run } from '@balanced/testkit';
import { parseAnnouncerConfig, renderBirdConfig } from '../src/index.js';
import { announcements, config } from './arbitraries.js';
import { loadFixtures } from './fixtures.js';
import { deployConfigMap } from './shipped.js';
import { BIRD, missingPrerequisite } from './prerequisites.js';

const skip = missingPrerequisite({ root: false });
const dir = mkdtempSync(join(tmpdir(), 'vipa-parse-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let sequence = 0;
/** `bird -p` on a main config that includes `rendered`; resolves with BIRD's complaint ('' = accepted). */
async function birdParse(rendered: string): Promise<string> {
  const n = ++sequence;
  const included = join(dir, `vips-${n}.conf`);
  const main = join(dir, `main-${n}.conf`);
  writeFileSync(included, rendered);
  writeFileSync(main, `log stderr all;\nprotocol device { }\ninclude "${included}";\n`);
  const r = await run(BIRD, ['-p', '-c', main]);
  return r.code === 0 ? '' : `exit ${r.code}: ${r.stderr.trim()}${r.stdout.trim()}`;
}

describe.each(skip === undefined ? [['bird -p']] : [])('%s accepts what the renderer writes', () => {
  test.each(loadFixtures().map((f) => [f.name, f] as const))('golden fixture %s', async (_name, f) => {
    expect(await birdParse(renderBirdConfig(f.config, f.announcements))).toBe('');
  });

  test('random configs and VIP sets', async () => {
    await fc.assert(
      fc.asyncProperty(config, announcements, async (c, anns) => {
        expect(await birdParse(renderBirdConfig(c, anns))).toBe('');
      }),
      { numRuns: 60 },
    );
  });

  test('example/bird: router.conf, and director.conf with the file example/bird/vip-announcer.yaml renders', async () => {
    const examples = join(findRepoRoot(), 'example', 'bird');
    const router = await run(BIRD, ['-p', '-c', join(examples, 'router.conf')]);
    expect(`${router.code} ${router.stderr}`).toBe('0 ');
    const config = parseAnnouncerConfig(readFileSync(join(examples, 'vip-announcer.yaml'), 'utf8'), { NODE_IP: '10.0.1.2', TOR_IP: '10.0.1.1' });
    const includeDir = join(dir, 'example-include');
    mkdirSync(includeDir);
    writeFileSync(join(includeDir, 'balanced-vips.conf'), renderBirdConfig(config, [{ vip: '10.96.100.10', communities: [{ asn: 65000, value: 100 }] }]));
    const director = readFileSync(join(examples, 'director.conf'), 'utf8').replace('include "/run/balanced/bird/*.conf";', `include "${includeDir}/*.conf";`);
    expect(director).toContain(includeDir);
    writeFileSync(join(dir, 'director.conf'), director);
    const parsed = await run(BIRD, ['-p', '-c', join(dir, 'director.conf')]);
    expect(`${parsed.code} ${parsed.stderr}`).toBe('0 ');
  });

  test('deploy/vip-announcer.yaml: the bird.conf of its ConfigMap, with the file its announcer config renders', async () => {
    const includeDir = join(dir, 'deploy-include');
    mkdirSync(includeDir);
    const config = parseAnnouncerConfig(deployConfigMap('balanced-vip-announcer')['vip-announcer.yaml'] ?? '', { NODE_IP: '10.0.1.2', TOR_IP: '10.0.1.1' });
    const rendered = renderBirdConfig(config, [{ vip: '10.96.100.10', communities: [] }]);
    // The router id is the node's address, never one BIRD picks from the interfaces (a VIP).
    expect(rendered).toMatch(/^router id 10\.0\.1\.2;$/m);
    writeFileSync(join(includeDir, 'balanced-vips.conf'), rendered);
    const main = (deployConfigMap('balanced-bird')['bird.conf'] ?? '').replace('include "/run/balanced/bird/*.conf";', `include "${includeDir}/*.conf";`);
    expect(main).toContain(includeDir);
    writeFileSync(join(dir, 'deploy-bird.conf'), main);
    const parsed = await run(BIRD, ['-p', '-c', join(dir, 'deploy-bird.conf')]);
    expect(`${parsed.code} ${parsed.stderr}`).toBe('0 ');
  });

  test('the check can fail: BIRD refuses a broken file', async () => {
    expect(await birdParse('protocol static balanced_vips4 { ipv4; route 10.96.100.10/32 blackhole }\n')).toMatch(/syntax error/);
  });
});

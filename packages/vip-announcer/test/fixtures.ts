// Golden fixtures: test/fixtures/<case>/input.yaml (the announcer config + the VIPs to
// announce) and expected.conf (the rendered file). UPDATE_GOLDEN=1 rewrites expected.conf.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { announcerConfigFromObject, type AnnouncerConfig, type VipAnnouncement } from '../src/index.js';
import { parseCommunity } from '../src/vip-pools.js';

export const FIXTURES_DIR = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

export interface Fixture {
  readonly name: string;
  readonly dir: string;
  readonly config: AnnouncerConfig;
  readonly announcements: VipAnnouncement[];
  readonly expectedFile: string;
}

export function loadFixtures(): Fixture[] {
  return readdirSync(FIXTURES_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const dir = join(FIXTURES_DIR, name);
      const doc = parse(readFileSync(join(dir, 'input.yaml'), 'utf8')) as { config: unknown; announcements: { vip: string; communities: string[] }[] };
      const announcements = doc.announcements.map((a) => ({
        vip: a.vip,
        communities: a.communities.map((c) => {
          const parsed = parseCommunity(c);
          if (parsed === undefined) throw new Error(`${name}: bad community ${c}`);
          return parsed;
        }),
      }));
      return { name, dir, config: announcerConfigFromObject(doc.config), announcements, expectedFile: join(dir, 'expected.conf') };
    });
}

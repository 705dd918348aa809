import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import { renderBirdConfig } from '../src/index.js';
import { loadFixtures } from './fixtures.js';

const update = process.env.UPDATE_GOLDEN === '1';

describe('renderBirdConfig golden files', () => {
  const fixtures = loadFixtures();
  test('there are fixtures', () => expect(fixtures.length).toBeGreaterThanOrEqual(5));

  test.each(fixtures.map((f) => [f.name, f] as const))('%s', (_name, fixture) => {
    const rendered = renderBirdConfig(fixture.config, fixture.announcements);
    if (update) writeFileSync(fixture.expectedFile, rendered);
    expect(existsSync(fixture.expectedFile)).toBe(true);
    expect(rendered).toBe(readFileSync(fixture.expectedFile, 'utf8'));
  });
});

// README's package table names every workspace package (one row each) and links every doc in docs/.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';

import { findRepoRoot } from '../src/repo-root.js';

const root = findRepoRoot();
const readme = readFileSync(join(root, 'README.md'), 'utf8');

function packageNames(): string[] {
  return readdirSync(join(root, 'packages'), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) => {
      try {
        const pkg: unknown = JSON.parse(readFileSync(join(root, 'packages', d.name, 'package.json'), 'utf8'));
        const name = typeof pkg === 'object' && pkg !== null && 'name' in pkg ? pkg.name : undefined;
        return typeof name === 'string' ? [name] : [];
      } catch {
        return [];
      }
    })
    .sort();
}

describe('README.md', () => {
  it('has one package-table row per package under packages/', () => {
    const names = packageNames();
    expect(names.length).toBeGreaterThan(10);
    const rows = readme.split('\n').filter((l) => /^\| `@balanced\/[a-z0-9-]+` \|/.test(l));
    const listed = rows.map((l) => /^\| `(@balanced\/[a-z0-9-]+)`/.exec(l)?.[1] ?? '').sort();
    expect(listed).toEqual(names);
  });

  it('links every document in docs/', () => {
    const docs = readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md'));
    expect(docs.length).toBeGreaterThan(3);
    expect(docs.filter((f) => !readme.includes(`](docs/${f}`))).toEqual([]);
  });
});

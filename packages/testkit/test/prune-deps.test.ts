// What the node images keep of node_modules (scripts/images/prune-deps.mjs, run by
// stage-app.sh): the bundles' externals and their dependencies, found as Node finds them. On a
// fixture tree with nested node_modules, scoped packages, an optional dependency not installed,
// an installed peer, a cycle and a workspace symlink; then on the workspace's own install.
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { findRepoRoot } from '../src/index.js';

interface PruneDeps {
  resolvePackage(root: string, from: string, name: string): string | undefined;
  dependencyClosure(root: string, from: readonly string[], names: readonly string[]): Set<string>;
  pruneNodeModules(root: string, from: readonly string[], keep: ReadonlySet<string>): string[];
}

const repo = findRepoRoot();
let prune: PruneDeps;
let external: readonly string[];
beforeAll(async () => {
  prune = (await import(pathToFileURL(join(repo, 'scripts', 'images', 'prune-deps.mjs')).href)) as PruneDeps;
  external = ((await import(pathToFileURL(join(repo, 'scripts', 'images', 'bundle.mjs')).href)) as { EXTERNAL: readonly string[] }).EXTERNAL;
});

interface Manifest {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

/** Writes <dir>/package.json for each entry (path relative to root). */
function packages(root: string, tree: Record<string, Manifest>): void {
  for (const [path, manifest] of Object.entries(tree)) {
    mkdirSync(join(root, path), { recursive: true });
    writeFileSync(join(root, path, 'package.json'), JSON.stringify({ name: path.split('node_modules/').at(-1), version: '1.0.0', ...manifest }));
  }
}

/** Every package folder (holding a package.json) or link left in a node_modules under root, relative. */
function installed(root: string, dir = root): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    const rel = relative(root, path);
    if (lstatSync(path).isSymbolicLink()) found.push(rel);
    else if (lstatSync(path).isDirectory()) {
      if (rel.includes('node_modules/') && existsSync(join(path, 'package.json'))) found.push(rel);
      found.push(...installed(root, path));
    }
  }
  return found.sort();
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/**
 * root/packages/app/dist/bundle loads `ext-a` and `ext-b`.
 * ext-a -> dep-c (-> ext-a: a cycle; -> dep-e, nested 2.0 beside the top-level 1.0),
 *          @scope/d, optional opt-missing (not installed) and @scope/opt-present, peer peer-x.
 * ext-b is installed twice: packages/app/node_modules/ext-b (the one Node loads) and the root's.
 */
function fixture(): { root: string; from: string } {
  const root = mkdtempSync(join(tmpdir(), 'balanced-prune-deps-'));
  dirs.push(root);
  packages(root, {
    'packages/app': { dependencies: { 'ext-a': '1', 'ext-b': '2' } },
    'packages/app/node_modules/ext-b': { dependencies: { 'dep-f': '1' } },
    'node_modules/ext-b': { dependencies: { unrelated: '1' } },
    'node_modules/ext-a': {
      dependencies: { 'dep-c': '1', '@scope/d': '1', 'opt-missing': '1' },
      optionalDependencies: { 'opt-missing': '1', '@scope/opt-present': '1' },
      peerDependencies: { 'peer-x': '1', 'peer-missing': '1' },
    },
    'node_modules/dep-c': { dependencies: { 'ext-a': '1', 'dep-e': '2' } },
    'node_modules/dep-c/node_modules/dep-e': {},
    'node_modules/dep-c/node_modules/unused-nested': {},
    'node_modules/dep-e': {},
    'node_modules/dep-f': {},
    'node_modules/@scope/d': {},
    'node_modules/@scope/opt-present': {},
    'node_modules/@scope/unused': {},
    'node_modules/@other/unused': {},
    'node_modules/peer-x': {},
    'node_modules/unrelated': {},
  });
  mkdirSync(join(root, 'node_modules', '.bin'));
  symlinkSync('../dep-e/index.js', join(root, 'node_modules', '.bin', 'dep-e'));
  mkdirSync(join(root, 'node_modules', '@balanced'));
  symlinkSync('../../packages/app', join(root, 'node_modules', '@balanced', 'app'));
  mkdirSync(join(root, 'packages', 'app', 'dist', 'bundle'), { recursive: true });
  return { root, from: join(root, 'packages', 'app', 'dist', 'bundle') };
}

const kept = [
  'node_modules/@scope/d',
  'node_modules/@scope/opt-present',
  'node_modules/dep-c',
  'node_modules/dep-c/node_modules/dep-e',
  'node_modules/dep-f',
  'node_modules/ext-a',
  'node_modules/peer-x',
  'packages/app/node_modules/ext-b',
];

describe('prune-deps: the externals and their dependencies, as Node resolves them', () => {
  it('resolves from the nearest node_modules walking up, never past the root', () => {
    const { root, from } = fixture();
    expect(prune.resolvePackage(root, from, 'ext-b')).toBe(join(root, 'packages/app/node_modules/ext-b'));
    expect(prune.resolvePackage(root, join(root, 'node_modules/dep-c'), 'dep-e')).toBe(join(root, 'node_modules/dep-c/node_modules/dep-e'));
    expect(prune.resolvePackage(root, join(root, 'node_modules/ext-a'), 'dep-e')).toBe(join(root, 'node_modules/dep-e'));
    expect(prune.resolvePackage(root, join(root, 'node_modules/ext-a'), '@scope/d')).toBe(join(root, 'node_modules/@scope/d'));
    expect(prune.resolvePackage(join(root, 'packages'), join(root, 'packages/app'), 'ext-a')).toBeUndefined();
  });

  it('keeps the closure: nested and scoped packages, installed optional and peer dependencies, through a cycle', () => {
    const { root, from } = fixture();
    const keep = prune.dependencyClosure(root, [from], ['ext-a', 'ext-b']);
    expect([...keep].map((dir) => relative(root, dir)).sort()).toEqual(kept);
  });

  it('removes every other package, the .bin links and emptied scopes; a workspace link goes, its target stays', () => {
    const { root, from } = fixture();
    const removed = prune.pruneNodeModules(root, [from], prune.dependencyClosure(root, [from], ['ext-a', 'ext-b']));
    expect(installed(root)).toEqual(kept);
    expect(removed.map((dir) => relative(root, dir)).sort()).toEqual([
      'node_modules/@balanced/app',
      'node_modules/@other/unused',
      'node_modules/@scope/unused',
      'node_modules/dep-c/node_modules/unused-nested',
      'node_modules/dep-e',
      'node_modules/ext-b',
      'node_modules/unrelated',
    ]);
    expect(readdirSync(join(root, 'node_modules')).sort()).toEqual(['@scope', 'dep-c', 'dep-f', 'ext-a', 'peer-x']);
    expect(existsSync(join(root, 'packages/app/package.json'))).toBe(true);
  });

  it('a required dependency or an external that is not installed is an error', () => {
    const { root, from } = fixture();
    rmSync(join(root, 'node_modules/@scope/d'), { recursive: true });
    expect(() => prune.dependencyClosure(root, [from], ['ext-a'])).toThrow('node_modules/ext-a needs @scope/d, which is not installed');
    expect(() => prune.dependencyClosure(root, [from], ['ext-b', 'absent'])).toThrow('absent is not installed');
  });

  it("on the workspace's install: koffi with its platform binary, ioredis, node-fetch; not client-node", () => {
    const keep = prune.dependencyClosure(repo, [join(repo, 'packages', 'cgroup-resolver', 'dist', 'bundle')], external);
    const names = new Set([...keep].map((dir) => relative(join(repo, 'node_modules'), dir)));
    expect(external).toEqual(['koffi', 'ioredis', 'node-fetch']);
    for (const name of ['koffi', `@koromix/koffi-${process.platform}-${process.arch}`, 'ioredis', 'denque', 'node-fetch', 'whatwg-url', 'tr46']) expect(names).toContain(name);
    for (const name of ['@kubernetes/client-node', 'pino', 'commander', 'typescript', 'jest']) expect(names).not.toContain(name);
  });
});

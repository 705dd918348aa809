// Keeps in a staged app tree's node_modules only what the bundles load from there at run time:
// the externals of scripts/images/bundle.mjs and, transitively, every package they depend on,
// found the way Node finds them (the nearest node_modules/<name>, walking up from the
// requiring package). Everything else `npm ci --omit=dev` installed is bundled already.
//
// The closure follows each installed package's package.json: `dependencies` (which must be
// installed), and `optionalDependencies` and `peerDependencies` when they are installed
// (koffi's per-platform binary package is one of its optionalDependencies).
//
// Usage: node scripts/images/prune-deps.mjs <app> <package dir name...>
//   (<app> is stage-app.sh's tree; each named package's bundle, packages/<pkg>/dist/bundle,
//   is where the externals are resolved from)
import { existsSync, lstatSync, readdirSync, readFileSync, realpathSync, rmSync, rmdirSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Whether `dir` is `root` or inside it. */
function inside(root, dir) {
  const rel = relative(root, dir);
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith('/'));
}

/**
 * The folder Node loads package `name` from when required from `from` (a folder): the nearest
 * `node_modules/<name>` walking up to `root`, or undefined when there is none.
 */
export function resolvePackage(root, from, name) {
  if (!inside(root, from)) throw new Error(`prune-deps: ${from} is outside ${root}`);
  for (let dir = from; ; dir = dirname(dir)) {
    if (basename(dir) !== 'node_modules') {
      const candidate = join(dir, 'node_modules', name);
      if (existsSync(candidate)) return candidate;
    }
    if (dir === root) return undefined;
  }
}

/** A package's declared dependencies: [name, required] pairs. */
function declaredDependencies(dir) {
  const file = join(dir, 'package.json');
  if (!existsSync(file)) return [];
  const pkg = JSON.parse(readFileSync(file, 'utf8'));
  return [
    ...Object.keys(pkg.dependencies ?? {}).map((name) => [name, !(name in (pkg.optionalDependencies ?? {}))]),
    ...Object.keys(pkg.optionalDependencies ?? {}).map((name) => [name, false]),
    ...Object.keys(pkg.peerDependencies ?? {}).map((name) => [name, false]),
  ];
}

/**
 * Every package folder the `names` need when loaded from the `from` folders, under `root`:
 * the folders themselves (as found, and their real path when that is a symlink) and their
 * dependencies, transitively. Each name must resolve from at least one `from` folder, and each
 * `dependencies` entry of a kept package from that package; a missing one throws.
 */
export function dependencyClosure(root, from, names) {
  root = resolve(root);
  const keep = new Set();
  const queue = [];
  for (const name of names) {
    const found = from.map((dir) => resolvePackage(root, resolve(dir), name)).filter((dir) => dir !== undefined);
    if (found.length === 0) throw new Error(`prune-deps: ${name} is not installed under ${root} (from ${from.join(', ')})`);
    queue.push(...found);
  }
  while (queue.length > 0) {
    const dir = queue.pop();
    if (keep.has(dir)) continue;
    keep.add(dir);
    const real = realpathSync(dir);
    if (!inside(root, real)) throw new Error(`prune-deps: ${dir} links outside ${root}`);
    keep.add(real);
    for (const [name, required] of declaredDependencies(real)) {
      const found = resolvePackage(root, real, name);
      if (found !== undefined) queue.push(found);
      else if (required) throw new Error(`prune-deps: ${relative(root, real)} needs ${name}, which is not installed`);
    }
  }
  return keep;
}

/** The package folders directly in a node_modules folder (scoped ones under their @scope). */
function packagesIn(nodeModules) {
  const found = [];
  for (const entry of readdirSync(nodeModules)) {
    if (entry.startsWith('.')) continue;
    const dir = join(nodeModules, entry);
    if (entry.startsWith('@') && lstatSync(dir).isDirectory()) found.push(...readdirSync(dir).map((name) => join(dir, name)));
    else found.push(dir);
  }
  return found;
}

/**
 * Removes from the node_modules folders a package in `from` resolves through (each `from`
 * folder's and its parents' up to `root`), and from the nested node_modules of the packages
 * kept, every package not in `keep` and the `.bin` folders (links to commands). A symlinked
 * package is removed as a link, never its target. Returns the removed package folders.
 */
export function pruneNodeModules(root, from, keep) {
  root = resolve(root);
  const removed = [];
  const pending = new Set();
  for (let dir of from.map((d) => resolve(d))) {
    for (; ; dir = dirname(dir)) {
      if (basename(dir) !== 'node_modules' && existsSync(join(dir, 'node_modules'))) pending.add(join(dir, 'node_modules'));
      if (dir === root || !inside(root, dir)) break;
    }
  }
  for (const nodeModules of pending) {
    rmSync(join(nodeModules, '.bin'), { recursive: true, force: true });
    for (const dir of packagesIn(nodeModules)) {
      if (!keep.has(dir)) {
        rmSync(dir, { recursive: true, force: true });
        removed.push(dir);
      } else if (!lstatSync(dir).isSymbolicLink() && existsSync(join(dir, 'node_modules'))) {
        pending.add(join(dir, 'node_modules'));
      }
    }
    for (const entry of readdirSync(nodeModules)) {
      const scope = join(nodeModules, entry);
      if (entry.startsWith('@') && lstatSync(scope).isDirectory() && readdirSync(scope).length === 0) rmdirSync(scope);
    }
  }
  return removed;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [app, ...pkgs] = process.argv.slice(2);
  if (app === undefined || pkgs.length === 0) {
    console.error('usage: node scripts/images/prune-deps.mjs <app> <package dir name...>');
    process.exit(2);
  }
  const { EXTERNAL } = await import('./bundle.mjs');
  const from = pkgs.map((pkg) => join(resolve(app), 'packages', pkg, 'dist', 'bundle'));
  const keep = dependencyClosure(app, from, EXTERNAL);
  const removed = pruneNodeModules(app, from, keep);
  const kept = [...keep].filter((dir) => existsSync(dir) && !removed.includes(dir)).map((dir) => relative(resolve(app), dir)).sort();
  console.error(`prune-deps: kept ${new Set(kept).size} packages (${EXTERNAL.join(', ')} and their dependencies): ${kept.join(' ')}; removed ${removed.length}`);
}

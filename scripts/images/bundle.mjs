// Bundles each image component's entry point (packages/<pkg>/dist/main.js, built by tsc) into
// one ES module, packages/<pkg>/dist/bundle/main.mjs: what the images run (config.sh
// IMAGE_ENTRYPOINT). Loading one file instead of ~1,900 (client-node's generated API alone is
// ~1,000 modules) starts a component ~0.4 s sooner and leaves it ~30 MB smaller (measured in
// the cgroup-resolver's agent benchmark; docs/benchmarks.md).
//
// The bundle sits two folders below the package, like dist/*.js, so paths a module computes
// from import.meta.url (the BPF objects, the CRI proto) resolve alike.
//
// Usage: node scripts/images/bundle.mjs <repo> [package dir name...]
//   (default: every node image's package, config.sh image_packages)
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/**
 * Loaded from node_modules at run time (the images ship these and their dependencies only:
 * scripts/images/prune-deps.mjs):
 * - koffi: a native addon; the FFI code requires it through createRequire, which a bundler
 *   cannot follow anyway;
 * - ioredis: loaded the same way, only when a Redis sink is configured;
 * - node-fetch (client-node's HTTP): it calls url.parse() and, through tr46, Node's built-in
 *   punycode. Node warns of both (DEP0169, DEP0040) only for code outside node_modules, so
 *   bundled it would print deprecation warnings in every component's log.
 */
export const EXTERNAL = ['koffi', 'ioredis', 'node-fetch'];

/** The oldest Node the bundles must run on: the repository's engines (CI and the images run newer). */
const TARGET = 'node20';

/**
 * esbuild emits an ES module, but the CommonJS dependencies it wraps call `require` for Node's
 * own modules: give the module one.
 */
const REQUIRE_SHIM = "import { createRequire as createRequireForBundle } from 'node:module'; const require = createRequireForBundle(import.meta.url);";

export async function bundleComponent(repo, pkg) {
  const entry = join(repo, 'packages', pkg, 'dist', 'main.js');
  if (!existsSync(entry)) throw new Error(`${entry} is missing: build the workspace (npx tsc -b) first`);
  const outfile = join(repo, 'packages', pkg, 'dist', 'bundle', 'main.mjs');
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: TARGET,
    external: [...EXTERNAL],
    banner: { js: REQUIRE_SHIM },
    legalComments: 'eof',
    logLevel: 'warning',
  });
  return outfile;
}

/** The package dir of every node image (config.sh, the one list of images). */
export function imagePackages() {
  const config = join(dirname(fileURLToPath(import.meta.url)), 'config.sh');
  return execFileSync('bash', ['-c', 'source "$1" && image_packages', 'bash', config], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [repoArg, ...named] = process.argv.slice(2);
  if (repoArg === undefined) {
    console.error('usage: node scripts/images/bundle.mjs <repo> [package dir name...]');
    process.exit(2);
  }
  const repo = resolve(repoArg);
  for (const pkg of named.length > 0 ? named : imagePackages()) await bundleComponent(repo, pkg);
}

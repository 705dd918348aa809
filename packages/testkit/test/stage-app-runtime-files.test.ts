// The node images' /app holds, per image package, only scripts/images/stage-app.sh's
// RUNTIME_FILES: the bundle and the files a bundle locates by path at run time. A module that
// starts locating a file from import.meta.url fails here until RUNTIME_FILES ships it.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { findRepoRoot } from '../src/index.js';

const repo = findRepoRoot();
/** Not in any image: the CLI and the test kit. */
const notShipped = new Set(['cli', 'testkit']);

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** stage-app.sh's RUNTIME_FILES patterns, as bash reads them. */
function runtimeFiles(): string[] {
  const line = readFileSync(join(repo, 'scripts', 'images', 'stage-app.sh'), 'utf8').match(/^RUNTIME_FILES=\(.*\)$/m)?.[0];
  if (line === undefined) throw new Error('stage-app.sh has no RUNTIME_FILES=(...) line');
  return execFileSync('bash', ['-c', `set -f; ${line}; printf '%s\\n' "\${RUNTIME_FILES[@]}"`], { encoding: 'utf8' }).trim().split('\n');
}

describe('stage-app ships what the bundles read by path', () => {
  it('every import.meta.url use in the shipped packages is a known one: a createRequire of an external, or a file RUNTIME_FILES ships', () => {
    const uses = readdirSync(join(repo, 'packages'))
      .filter((pkg) => !notShipped.has(pkg))
      .flatMap((pkg) => sources(join(repo, 'packages', pkg, 'src')))
      .flatMap((file) => readFileSync(file, 'utf8').split('\n').filter((l) => l.includes('import.meta.url')).map((l) => `${relative(join(repo, 'packages'), file)}: ${l.trim()}`))
      .sort();
    expect(uses).toEqual([
      "cgroup-resolver/src/events/redis-sink.ts: const loadIoredis = (): typeof Ioredis => createRequire(import.meta.url)('ioredis') as typeof Ioredis;",
      'cgroup-resolver/src/libbpf/library.ts: const requireNative = createRequire(import.meta.url);',
      "cgroup-resolver/src/loader/resolver-programs.ts: return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'bpf', file);",
      "endpoint-controller/src/netns/cri.ts: export const CRI_PROTO_PATH = fileURLToPath(new URL('../../proto/cri-runtime-v1.proto', import.meta.url));",
      'netlink/src/socket/libc.ts: const requireNative = createRequire(import.meta.url);',
    ]);
  });

  it('RUNTIME_FILES names the bundle, the BPF objects and the CRI proto, and they are where the bundles look', () => {
    const patterns = runtimeFiles();
    expect(patterns).toEqual(expect.arrayContaining(['dist/bundle/main.mjs', 'dist/bpf/*.bpf.o', 'proto/*.proto']));
    const located = [
      // the bundle sits in dist/bundle, two folders below its package like dist/<dir>/*.js
      new URL('../../dist/bpf/resolver.bpf.o', `file://${repo}/packages/cgroup-resolver/dist/bundle/main.mjs`),
      new URL('../../dist/bpf/sock_destroy.bpf.o', `file://${repo}/packages/cgroup-resolver/dist/bundle/main.mjs`),
      new URL('../../proto/cri-runtime-v1.proto', `file://${repo}/packages/endpoint-controller/dist/bundle/main.mjs`),
    ].map((url) => url.pathname);
    for (const file of located) {
      const rest = /\/packages\/[^/]+\/(.*)$/.exec(file)?.[1] ?? file;
      const shipped = patterns.some((p) => new RegExp(`^${p.replaceAll('.', '\\.').replaceAll('*', '[^/]*')}$`).test(rest));
      // (the BPF objects are built by scripts/setup.sh, like the bundles)
      expect({ file, shipped, exists: existsSync(file) }).toEqual({ file, shipped: true, exists: true });
    }
  });
});

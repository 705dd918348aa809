import { describe, expect, it } from '@jest/globals';
import { forwardedEnv, guestCwd, labInvocation } from '../src/cli/lab-command.js';

describe('labInvocation', () => {
  it('runs jest through node with ESM, a tmpfs cache and CI flags', () => {
    const inv = labInvocation(['jest', '--selectProjects', 'kernel'], '/usr/bin/node', '/repo');
    expect(inv?.command).toEqual([
      '/usr/bin/node', '--experimental-vm-modules', 'node_modules/jest/bin/jest.js', '--ci', '--runInBand',
      '--selectProjects', 'kernel',
    ]);
    expect(inv?.env).toEqual({ JEST_CACHE_DIR: '/tmp/jest-cache', CI: 'true' });
  });
  it('leaves worker settings to the caller when given', () => {
    expect(labInvocation(['jest', '-w=2'], 'node', '/r')?.command).not.toContain('--runInBand');
    expect(labInvocation(['jest', '--maxWorkers', '2'], 'node', '/r')?.command).not.toContain('--runInBand');
  });
  it('runs node files and other programs as given', () => {
    expect(labInvocation(['node', 'example/demo.mjs', 'x'], '/n', '/r')?.command).toEqual(['/n', 'example/demo.mjs', 'x']);
    expect(labInvocation(['sh', '-c', 'exit 3'], '/n', '/r')?.command).toEqual(['sh', '-c', 'exit 3']);
  });
  it('has no invocation without a program', () => {
    expect(labInvocation([], '/n', '/r')).toBeUndefined();
    expect(labInvocation(['--help'], '/n', '/r')).toBeUndefined();
  });
});

describe('cli helpers', () => {
  it('keeps a cwd inside the repository, else uses the root', () => {
    expect(guestCwd('/repo/packages/x', '/repo')).toBe('/repo/packages/x');
    expect(guestCwd('/repo', '/repo')).toBe('/repo');
    expect(guestCwd('/elsewhere', '/repo')).toBe('/repo');
    expect(guestCwd('/repository2', '/repo')).toBe('/repo');
  });
  it('forwards project variables but not the lab own ones', () => {
    expect(forwardedEnv({ BALANCED_X: '1', BALANCED_LAB_VM: '1', HOME: '/root' }, false)).toEqual({ BALANCED_X: '1' });
    expect(forwardedEnv({}, true)).toEqual({ FORCE_COLOR: '1' });
    expect(forwardedEnv({ CI: 'true', FC_SEED: '7', GITHUB_TOKEN: 'x' }, false)).toEqual({ CI: 'true', FC_SEED: '7' });
  });
});

import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { IN_VM_ENV } from '../src/index.js';

// Runs only inside the lab VM (npm run test:kernel). On the host it FAILS on purpose: the
// kernel project must never pass without the Debian kernel's IPVS.
describe('lab VM kernel', () => {
  it('runs inside the lab VM', () => {
    expect(process.env[IN_VM_ENV]).toBe('1');
  });

  it('has IPVS loaded and ipvsadm works', () => {
    expect(existsSync('/proc/net/ip_vs')).toBe(true);
    const out = execFileSync('ipvsadm', ['-Ln'], { encoding: 'utf8' });
    expect(out).toMatch(/IP Virtual Server version/);
  });

  it('has loopback up (IPVS destinations need it)', () => {
    const out = execFileSync('ip', ['-o', 'link', 'show', 'lo'], { encoding: 'utf8' });
    expect(out).toMatch(/[<,]UP[,>]/);
  });
});

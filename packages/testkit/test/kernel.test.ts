import { describe, expect, it } from '@jest/globals';
import { compareKernelVersions, extractVmlinux, selectKernelVersion } from '../src/index.js';

describe('selectKernelVersion', () => {
  const boot = [
    'config-6.1.0-9-amd64',
    'vmlinuz-6.1.0-9-amd64',
    'vmlinuz-6.1.0-56-amd64',
    'vmlinuz-6.1.0-57-cloud-amd64',
    'vmlinuz-6.12.0-1-amd64',
    'initrd.img-6.12.0-1-amd64',
    'System.map-6.1.0-56-amd64',
  ];
  it('picks the newest amd64 kernel that has 9p modules', () => {
    const with9p = new Set(['6.1.0-9-amd64', '6.1.0-56-amd64']);
    expect(selectKernelVersion(boot, (v) => with9p.has(v))).toBe('6.1.0-56-amd64');
  });
  it('compares numerically, not lexically', () => {
    expect(selectKernelVersion(boot, () => true)).toBe('6.12.0-1-amd64');
    expect(compareKernelVersions('6.1.0-56-amd64', '6.1.0-9-amd64')).toBeGreaterThan(0);
    expect(compareKernelVersions('6.12.0-1-amd64', '6.1.0-56-amd64')).toBeGreaterThan(0);
  });
  it('skips kernels without 9p (the cloud kernel)', () => {
    expect(selectKernelVersion(boot, (v) => v.includes('cloud'))).toBe('6.1.0-57-cloud-amd64');
    expect(selectKernelVersion(boot, () => false)).toBeUndefined();
  });
  it('honours an explicit override', () => {
    expect(selectKernelVersion(boot, () => false, '5.10.0-1-amd64')).toBe('5.10.0-1-amd64');
    expect(selectKernelVersion(boot, () => true, '')).toBe('6.12.0-1-amd64');
  });
});

describe('extractVmlinux', () => {
  it('rejects an image without an xz payload', async () => {
    await expect(extractVmlinux(Buffer.from('MZ not a kernel'))).rejects.toThrow(/no xz payload/);
  });
});

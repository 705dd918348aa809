import { describe, expect, it } from '@jest/globals';
import { buildQemuArgs, cpioNewc, qemuOptValue } from '../src/index.js';

describe('buildQemuArgs', () => {
  const args = buildQemuArgs({
    kernel: '/c/vmlinux',
    initrd: '/c/initrd.cpio.gz',
    repoDir: '/tmp/ci,checkout',
    exchangeDir: '/tmp/x',
    memoryMb: 1024,
    cpus: 2,
    extraAppend: 'lab.trace',
  });
  const after = (flag: string): string[] => args.flatMap((a, i) => (a === flag ? [args[i + 1] ?? ''] : []));
  it('uses the pc machine under multi-threaded TCG, never microvm', () => {
    expect(after('-M')).toEqual(['pc']);
    expect(after('-accel')).toEqual(['tcg,thread=multi']);
    expect(after('-cpu')).toEqual(['max']);
    expect(args.join(' ')).not.toContain('microvm');
  });
  it('boots the kernel with the serial console on stdio and no reboot', () => {
    expect(args).toEqual(expect.arrayContaining(['-nographic', '-no-reboot', '-nodefaults']));
    expect(after('-serial')).toEqual(['stdio']);
    expect(after('-append')).toEqual(['console=ttyS0 quiet panic=-1 lab.trace']);
  });
  it('shares root read-only, repository and exchange read-write', () => {
    expect(after('-fsdev')).toEqual([
      'local,id=root,path=/,security_model=none,multidevs=remap,readonly=on',
      'local,id=repo,path=/tmp/ci,,checkout,security_model=none,multidevs=remap',
      'local,id=xchg,path=/tmp/x,security_model=none,multidevs=remap',
    ]);
    expect(after('-device')).toEqual([
      'virtio-9p-pci,fsdev=root,mount_tag=hostroot',
      'virtio-9p-pci,fsdev=repo,mount_tag=labrepo',
      'virtio-9p-pci,fsdev=xchg,mount_tag=labxchg',
    ]);
  });
  it('escapes commas in option values', () => {
    expect(qemuOptValue('a,b,,c')).toBe('a,,b,,,,c');
  });
});

describe('cpioNewc', () => {
  it('writes 4-byte aligned newc records and a trailer', () => {
    const archive = cpioNewc([
      { path: 'bin', type: 'dir' },
      { path: 'init', type: 'file', mode: 0o755, data: Buffer.from('#!/bin/sh\n') },
    ]);
    const text = archive.toString('latin1');
    expect(text.startsWith('070701')).toBe(true);
    expect(archive.length % 4).toBe(0);
    expect(text).toContain('init\0');
    expect(text).toContain('#!/bin/sh\n');
    expect(text).toContain('TRAILER!!!\0');
    // second record: mode field (chars 14..22) = regular file 0755
    const second = text.indexOf('070701', 6);
    expect(text.slice(second + 14, second + 22)).toBe((0o100755).toString(16).padStart(8, '0'));
  });
});

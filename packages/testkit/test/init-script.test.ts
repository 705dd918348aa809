import { describe, expect, it } from '@jest/globals';
import { GUEST_EXCHANGE_DIR, GUEST_MODULES, initramfsKey, MOUNT_TAGS, parseShowDepends, renderInitScript } from '../src/index.js';

const script = renderInitScript({ initramfsModules: ['virtio.ko', '9pnet.ko', '9p.ko'] });
const lines = script.split('\n');
const indexOf = (pattern: RegExp): number => lines.findIndex((l) => pattern.test(l));

describe('renderInitScript', () => {
  it('is a busybox script that ends by powering off', () => {
    expect(lines[0]).toBe('#!/bin/busybox sh');
    expect(script.trimEnd().endsWith('poweroff -f')).toBe(true);
  });
  it('loads the initramfs modules in the given order', () => {
    expect(script).toContain('for m in virtio.ko 9pnet.ko 9p.ko; do insmod "/mods/$m"');
  });
  it('mounts the host root read-only over virtio 9p with the agreed options', () => {
    expect(script).toContain('O=trans=virtio,version=9p2000.L,msize=512000');
    expect(script).toContain(`mount -t 9p -o "$OC,ro" ${MOUNT_TAGS.root} "$R"`);
    expect(script).toContain('OC="$O,cache=${C:-loose}"');
  });
  it('reads lab.9pcache from the kernel command line with the dot matched literally', () => {
    expect(script).toContain("sed -n 's/^lab\\.9pcache=//p'");
  });
  it('mounts the repository at its own path after the tmpfs mounts, creating the mount point', () => {
    const tmp = indexOf(/mount -t tmpfs .* "\$R\/tmp"/);
    const run = indexOf(/mount -t tmpfs .* "\$R\/run"/);
    const mkdirRepo = indexOf(/^mkdir -p "\$R\$REPO"$/);
    const repo = indexOf(new RegExp(`mount -t 9p -o "\\$OC" ${MOUNT_TAGS.repo} "\\$R\\$REPO"`));
    expect(Math.min(tmp, run, mkdirRepo, repo)).toBeGreaterThanOrEqual(0);
    expect(tmp).toBeLessThan(mkdirRepo);
    expect(run).toBeLessThan(mkdirRepo);
    expect(mkdirRepo).toBeLessThan(repo);
  });
  it('mounts the exchange share writable at the fixed guest path', () => {
    expect(script).toContain(`mount -t 9p -o "$O" ${MOUNT_TAGS.exchange} "$R${GUEST_EXCHANGE_DIR}"`);
  });
  it('brings lo up and loads IPVS & co with the root modprobe, tolerating failures', () => {
    expect(indexOf(/^ip link set lo up/)).toBeGreaterThan(0);
    expect(script).toContain(`-a ${GUEST_MODULES.join(' ')}`);
    expect(GUEST_MODULES).toEqual(expect.arrayContaining(['ip_vs', 'ip_vs_mh', 'ipip', 'dummy', 'veth', 'nf_tables']));
    expect(script).toContain('echo "lab-init: modprobe $m failed"');
  });
  it('runs the exchange script chrooted with stdin closed and reports RUN_EXIT', () => {
    const runLine = indexOf(/^chroot "\$R" \/bin\/sh "\/run\/lab-exchange\/run\.sh" <\/dev\/null 2>&1 \| cat$/);
    expect(lines[runLine - 1]).toBe('set -o pipefail');
    expect(runLine).toBeGreaterThan(0);
    expect(lines[runLine + 1]).toBe('RC=$?');
    expect(script).toContain(`printf '\\nRUN_EXIT=%d\\n' "$RC"`);
  });
  it('lets the caller choose guest modules', () => {
    expect(renderInitScript({ initramfsModules: [], guestModules: ['dummy'] })).toContain('-a dummy ');
  });
});

describe('initramfs helpers', () => {
  it('parses modprobe --show-depends, dropping duplicates and builtins', () => {
    const out = [
      'insmod /lib/modules/v/kernel/drivers/virtio/virtio_ring.ko ',
      'insmod /lib/modules/v/kernel/drivers/virtio/virtio.ko ',
      'builtin crc32c',
      'insmod /lib/modules/v/kernel/drivers/virtio/virtio_ring.ko ',
      'insmod /lib/modules/v/kernel/net/9p/9pnet.ko ',
    ].join('\n');
    expect(parseShowDepends(out)).toEqual([
      '/lib/modules/v/kernel/drivers/virtio/virtio_ring.ko',
      '/lib/modules/v/kernel/drivers/virtio/virtio.ko',
      '/lib/modules/v/kernel/net/9p/9pnet.ko',
    ]);
  });
  it('keys the cache by init script and kernel version', () => {
    expect(initramfsKey(script, '6.1.0-1-amd64')).toBe(initramfsKey(script, '6.1.0-1-amd64'));
    expect(initramfsKey(script, '6.1.0-1-amd64')).not.toBe(initramfsKey(script, '6.1.0-2-amd64'));
    expect(initramfsKey(`${script}#`, '6.1.0-1-amd64')).not.toBe(initramfsKey(script, '6.1.0-1-amd64'));
  });
});

import { describe, expect, it } from '@jest/globals';
import { distinctNamespaces, type ProcessNetns } from '../src/loader/pod-namespaces.js';

const own = { dev: 4n, ino: 4026531840n };
const p = (pid: number, ino: bigint, dev = 4n): ProcessNetns => ({ pid, dev, ino });

describe('distinctNamespaces', () => {
  it('keeps one path per namespace (lowest pid), ours left out, ordered by pid', () => {
    const processes = [p(900, 4026532300n), p(1, own.ino), p(450, 4026532300n), p(77, 4026532999n), p(78, own.ino)];
    expect(distinctNamespaces(processes, own)).toEqual(['/proc/77/ns/net', '/proc/450/ns/net']);
  });

  it('tells namespaces apart by device as well as inode, and honours procRoot', () => {
    expect(distinctNamespaces([p(10, own.ino, 5n)], own, '/host/proc')).toEqual(['/host/proc/10/ns/net']);
  });

  it('returns nothing when every process shares our namespace', () => {
    expect(distinctNamespaces([p(1, own.ino), p(2, own.ino)], own)).toEqual([]);
    expect(distinctNamespaces([], own)).toEqual([]);
  });
});

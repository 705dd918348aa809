import { expect, test } from '@jest/globals';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applySysctls, checkSysctls } from '../src/sysctls.js';

function fakeProcSys(values: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'sysctl-'));
  for (const [name, value] of Object.entries(values)) {
    mkdirSync(join(root, name, '..'), { recursive: true });
    writeFileSync(join(root, name), `${value}\n`);
  }
  return root;
}

test('checkSysctls reports what differs (and what it cannot read) and writes nothing', () => {
  const root = fakeProcSys({ 'net/ipv4/vs/conntrack': '1', 'net/ipv4/vs/sloppy_tcp': '1' });
  try {
    const wanted = { 'net/ipv4/vs/conntrack': '0', 'net/ipv4/vs/sloppy_tcp': '1', 'net/ipv4/vs/schedule_icmp': '1' };
    expect(checkSysctls({ wanted, root })).toEqual([
      { name: 'net.ipv4.vs.conntrack', from: '1', to: '0' },
      { name: 'net.ipv4.vs.schedule_icmp', from: 'unreadable', to: '1' },
    ]);
    expect(readFileSync(join(root, 'net/ipv4/vs/conntrack'), 'utf8')).toBe('1\n');
    // host mode sets the readable ones; afterwards only the missing one differs
    expect(applySysctls({ wanted: { 'net/ipv4/vs/conntrack': '0' }, root })).toEqual([{ name: 'net.ipv4.vs.conntrack', from: '1', to: '0' }]);
    expect(checkSysctls({ wanted, root }).map((w) => w.name)).toEqual(['net.ipv4.vs.schedule_icmp']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

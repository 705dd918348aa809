// koffi (a native addon that dlopens libc) is loaded only by code that opens a socket, not by
// importing the package: every binary reaches the pure codec through this index (issue 16
// item 4). Checked in a fresh node per case (a jest worker may already have koffi loaded),
// against the built package (dist/; scripts/setup.sh builds it), by the shared objects the
// process has mapped: that sees koffi however it was loaded (import, require).
import { execFile } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';

const here = dirname(fileURLToPath(import.meta.url));

function koffiMappedAfter(body: string): Promise<string[]> {
  const script = `${body}\nconsole.log(JSON.stringify(process.report.getReport().sharedObjects.filter((f) => /koffi/.test(f))));`;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], { cwd: here }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${err.message}\n${stderr}`, { cause: err }));
      else resolve(JSON.parse(stdout) as string[]);
    });
  });
}

describe('koffi is loaded only when a socket is opened', () => {
  it('importing @balanced/netlink and using its codec does not load it', async () => {
    const mapped = await koffiMappedAfter(
      "const n = await import('@balanced/netlink'); n.encodeMessage({ type: 16, flags: 1, sequence: 1, portId: 0 }, new Uint8Array(0));",
    );
    expect(mapped).toEqual([]);
  });

  it('opening a socket loads it (so the check above can see it)', async () => {
    const mapped = await koffiMappedAfter(
      "const n = await import('@balanced/netlink'); n.NetlinkSocket.open(n.NETLINK_ROUTE).close();",
    );
    expect(mapped).toHaveLength(1);
    expect(mapped[0]).toMatch(/koffi\.node$/);
  }, 30_000);
});

import { readFileSync, writeFileSync } from 'node:fs';
import { inNamespace } from '@balanced/netlink';
import { run } from '../exec.js';

/**
 * Runs `ip` commands in one namespace through one `ip -batch` process (process starts are
 * slow under TCG). Stops at the first failing line and says which.
 */
export async function ipBatch(netns: string, lines: readonly string[]): Promise<void> {
  if (lines.length === 0) return;
  const r = await run('ip', ['-n', netns, '-batch', '-'], { input: `${lines.join('\n')}\n` });
  if (r.code !== 0) {
    throw new Error(`ip -n ${netns} -batch failed (${r.code}): ${r.stderr.trim()}\n  batch:\n    ${lines.join('\n    ')}`);
  }
}

/**
 * Writes sysctls (dotted names, e.g. `net.ipv4.ip_forward`) inside a namespace.
 * /proc/sys/net is per network namespace and resolved for the calling thread, so the
 * writes happen synchronously while this thread is inside the namespace.
 */
export function setSysctls(netns: string, values: Readonly<Record<string, string | number>>): void {
  inNamespace(`/run/netns/${netns}`, () => {
    for (const [name, value] of Object.entries(values)) {
      writeFileSync(`/proc/sys/${name.replaceAll('.', '/')}`, `${value}\n`);
    }
  });
}

/** Reads sysctls (dotted names) inside a namespace. */
export function readSysctls(netns: string, names: readonly string[]): Record<string, string> {
  return inNamespace(`/run/netns/${netns}`, () => Object.fromEntries(names.map((n) => [n, readFileSync(`/proc/sys/${n.replaceAll('.', '/')}`, 'utf8').trim()])));
}

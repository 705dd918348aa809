import { spawn } from 'node:child_process';

/** iptables in another network namespace, given an open descriptor of that namespace. */
export interface NamespaceIptables {
  /** `iptables-save -t <table>` output. */
  save(netnsFd: number, table: string): Promise<string>;
  /** `iptables-restore --noflush` with `input` (one transaction). */
  restore(netnsFd: number, input: string): Promise<void>;
}

export interface NsenterIptablesOptions {
  readonly nsenter?: string;
  readonly iptablesSave?: string;
  readonly iptablesRestore?: string;
  /** Kill a command that has not finished after this long. Default 30 s. */
  readonly timeoutMs?: number;
}

/**
 * Runs iptables through `nsenter --net=/proc/self/fd/3` with the namespace descriptor passed
 * as the child's fd 3: the command runs in exactly the namespace we hold open, even if the
 * path we found it by (a pid's /proc entry) has gone meanwhile.
 */
export function nsenterIptables(options: NsenterIptablesOptions = {}): NamespaceIptables {
  const nsenter = options.nsenter ?? 'nsenter';
  const timeoutMs = options.timeoutMs ?? 30_000;
  const run = (fd: number, file: string, args: readonly string[], input?: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const child = spawn(nsenter, ['--net=/proc/self/fd/3', file, ...args], { stdio: ['pipe', 'pipe', 'pipe', fd], timeout: timeoutMs });
      let stdout = '';
      let stderr = '';
      child.stdout?.setEncoding('utf8').on('data', (s: string) => (stdout += s));
      child.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr += s));
      child.on('error', (e) => reject(new Error(`${file} ${args.join(' ')}: ${e.message}`)));
      child.on('close', (code, signal) => {
        if (code === 0) resolve(stdout);
        else reject(new Error(`${file} ${args.join(' ')} failed (${signal ?? `exit ${code}`}): ${stderr.trim() || stdout.trim()}`));
      });
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(input ?? '');
    });
  return {
    save: (fd, table) => run(fd, options.iptablesSave ?? 'iptables-save', ['-t', table]),
    restore: async (fd, input) => {
      await run(fd, options.iptablesRestore ?? 'iptables-restore', ['--noflush'], input);
    },
  };
}

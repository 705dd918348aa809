// `balanced plan --empty`, `explain --empty`, `bird render` and `--help` run where libbpf.so.1
// is not installed: they load neither koffi (a native addon) nor libbpf, which only code that
// opens a socket or a map loads (issue 16 item 4). The built binary runs in a fresh node; a preload prints the shared objects
// the process has mapped when it exits, which sees koffi and libbpf however they were loaded.
// packages/cgroup-resolver/test/lazy-koffi.test.ts and packages/netlink/test/lazy-koffi.test.ts
// show the same check sees them once a map or socket is opened.
import { describe, expect, it } from '@jest/globals';
import { ANNOUNCER, CLUSTER, runBalanced, type CliRun } from './run-cli.js';

const report = "process.on('exit', () => process.stderr.write('\\nMAPPED ' + JSON.stringify(process.report.getReport().sharedObjects.filter((f) => /koffi|libbpf/.test(f))) + '\\n'));";
const NODE_OPTIONS = `--import=data:text/javascript,${encodeURIComponent(report)}`;

async function runWatched(args: readonly string[]): Promise<CliRun & { readonly mapped: readonly string[] }> {
  const run = await runBalanced(args, { env: { NODE_OPTIONS } });
  const line = /^MAPPED (.*)$/m.exec(run.stderr);
  if (line?.[1] === undefined) throw new Error(`balanced ${args.join(' ')}: no report (exit ${run.code})\n${run.stderr}`);
  return { ...run, mapped: JSON.parse(line[1]) as string[] };
}

describe('balanced loads koffi and libbpf only to open a socket or a map', () => {
  it('plan --empty of the director and the allocator from manifests', async () => {
    const run = await runWatched(['plan', '-f', CLUSTER, '--empty', '--component', 'director,allocator']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/director \(IPVS empty table[^\n]*\): 1 virtual services desired/);
    expect(run.stdout).toMatch(/allocator: 1 status changes/);
    expect(run.mapped).toEqual([]);
  }, 60_000);

  it('plan --empty of every component, the resolver included', async () => {
    const run = await runWatched(['plan', '-f', CLUSTER, '--empty', '--json']);
    expect(run.code).toBe(0);
    expect(Object.keys(JSON.parse(run.stdout) as object)).toEqual(expect.arrayContaining(['director', 'resolver', 'allocator']));
    expect(run.mapped).toEqual([]);
  }, 60_000);

  it('explain --empty and bird render', async () => {
    const explain = await runWatched(['explain', '10.96.200.1:80', '203.0.113.7', '-f', CLUSTER, '--empty']);
    expect(explain.code).toBe(0);
    expect(explain.stdout).toMatch(/client 203\.0\.113\.7 -> /);
    expect(explain.mapped).toEqual([]);
    const bird = await runWatched(['bird', 'render', '--config', ANNOUNCER, '-f', CLUSTER]);
    expect(bird.code).toBe(0);
    expect(bird.stdout).toMatch(/protocol bgp /);
    expect(bird.mapped).toEqual([]);
  }, 60_000);

  it('--help', async () => {
    const run = await runWatched(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Usage: balanced/);
    expect(run.mapped).toEqual([]);
  }, 60_000);
});

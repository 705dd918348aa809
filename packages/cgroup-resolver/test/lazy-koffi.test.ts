// koffi (a native addon) and libbpf.so.1 are loaded only by code that opens a map, an object or
// a socket, not by importing the package or running the binary's --help: `balanced plan --empty`
// and the desired/plan code run where libbpf is not installed (issue 16 item 4). Checked in a
// fresh node per case (a jest worker may already have koffi loaded), against the built package
// (dist/; scripts/setup.sh builds it), by the shared objects the process has mapped: that sees
// koffi and libbpf however they were loaded.
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';

const here = dirname(fileURLToPath(import.meta.url));
const bin = join(here, '..', 'dist', 'main.js');
const NATIVE = /koffi|libbpf/;

/** Shared objects matching NATIVE once `args` ran in a fresh node (printed at exit); fails unless it exits 0. */
function nativeMappedAfter(args: readonly string[]): Promise<string[]> {
  const report = `process.on('exit', () => process.stderr.write('\\nMAPPED ' + JSON.stringify(process.report.getReport().sharedObjects.filter((f) => ${String(NATIVE)}.test(f))) + '\\n'));`;
  const preload = `data:text/javascript,${encodeURIComponent(report)}`;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', preload, ...args], { cwd: here }, (err, _stdout, stderr) => {
      const line = /^MAPPED (.*)$/m.exec(stderr);
      if (err !== null) reject(new Error(`${err.message}\n${stderr}`, { cause: err }));
      else if (line?.[1] === undefined) reject(new Error(`no report\n${stderr}`));
      else resolve(JSON.parse(line[1]) as string[]);
    });
  });
}

const WORLD = `
const svc = { metadata: { namespace: 'shop', name: 'web', uid: 'u1' }, spec: { type: 'ClusterIP', clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 }] } };
const slice = { metadata: { namespace: 'shop', name: 'web-1', labels: { 'kubernetes.io/service-name': 'web' } }, addressType: 'IPv4', ports: [{ name: 'http', protocol: 'TCP', port: 8080 }], endpoints: [{ addresses: ['10.244.1.5'], conditions: { ready: true } }] };`;

describe('koffi and libbpf are loaded only when a map or socket is opened', () => {
  it('importing @balanced/cgroup-resolver, building and planning the maps does not load them', async () => {
    const script = `${WORLD}
const r = await import('@balanced/cgroup-resolver');
const plan = r.planMaps(r.buildResolverState({ services: [svc], endpointSlices: [slice], nodes: [] }), { frontends: [], services: new Map(), backends: new Map() });
if (!plan.ops.some((op) => op.op === 'service-put')) throw new Error('the plan programs nothing: ' + JSON.stringify(plan.ops.map((op) => op.op)));`;
    expect(await nativeMappedAfter(['--input-type=module', '-e', script])).toEqual([]);
  }, 30_000);

  it('balanced-cgroup-resolver --help does not load them', async () => {
    expect(await nativeMappedAfter([bin, '--help'])).toEqual([]);
  }, 30_000);

  it('opening a socket through the package loads koffi (so the checks above can see it)', async () => {
    const script = "const r = await import('@balanced/cgroup-resolver'); if (typeof r.hostNetnsCookie() !== 'bigint') throw new Error('no cookie');";
    const mapped = await nativeMappedAfter(['--input-type=module', '-e', script]);
    expect(mapped.some((f) => /koffi\.node$/.test(f))).toBe(true);
  }, 30_000);

  it('opening a pinned map loads libbpf, and its failure is a typed error', async () => {
    const script = `const r = await import('@balanced/cgroup-resolver');
try { r.MapHandle.pinned('/nonexistent/balanced-lazy-koffi'); throw new Error('opened a map that does not exist'); }
catch (e) { if (!(e instanceof r.BpfError) || e.errno !== 2) throw e; }`;
    const mapped = await nativeMappedAfter(['--input-type=module', '-e', script]);
    expect(mapped.some((f) => /libbpf\.so\.1$/.test(f))).toBe(true);
  }, 30_000);
});

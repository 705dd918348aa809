// The balanced binaries of the demo, each started as its own process with the flags that
// deploy/*.yaml gives it (plus the lab's kubeconfig, ports and namespaces). The lab VM has a
// single network namespace for the "host" side, where the test API server listens on
// loopback; a director's controller programs its director's namespace through --netns,
// as its DaemonSet (hostNetwork) programs the node's.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDirectorBird } from '@balanced/testkit';
import { NODE, VIP_CIDR } from './cluster.mjs';
import { binary } from './processes.mjs';

const CONTROLLER_PORT = 19740; // + director index
const ANNOUNCER_PORT = 19750; // + director index
export const ALLOCATOR_PORT = 19743;
export const ENDPOINTS_PORT = 19744;
export const RESOLVER_PORT = 19745;
const url = (port) => `http://127.0.0.1:${port}/readyz`;

/** deploy/vip-allocator.yaml: leader-elected, its Lease in balanced-system. */
export function startAllocator(procs, repo, kubeconfig) {
  const p = procs.start('vip-allocator', binary(repo, 'vip-allocator'), [
    '--kubeconfig', kubeconfig, '--namespace=balanced-system', '--identity=vip-allocator-0', '--lease-name=balanced-vip-allocator',
    '--metrics-host=127.0.0.1', `--metrics-port=${ALLOCATOR_PORT}`, '--retry-period-seconds=1',
  ]);
  return p;
}

/** deploy/ipvs-controller.yaml (host networking), programming the director's namespace. */
export async function startDirectorController(procs, repo, kubeconfig, director) {
  const port = CONTROLLER_PORT + director.index;
  const p = procs.start(`ipvs-controller-d${director.index}`, binary(repo, 'ipvs-controller'), [
    '--kubeconfig', kubeconfig, `--vip-cidr=${VIP_CIDR}`, '--networking=host', `--vip-interface=${director.vipInterface}`,
    `--netns=/run/netns/${director.netns}`, '--metrics-host=127.0.0.1', `--metrics-port=${port}`,
  ]);
  await procs.ready(p, url(port));
  return p;
}

/**
 * deploy/vip-announcer.yaml (3 failed probes, 1 s apart, withdraw; the probe timeout is 3 s
 * instead of 1 s: under QEMU's emulation a busy controller answers late, and the announcer
 * would withdraw the VIP for that): BIRD in the director's namespace (its config includes the
 * announcer's file) and the announcer that writes that file and reloads BIRD over its socket.
 */
export async function startDirectorAnnouncer(procs, repo, kubeconfig, lab, director, workDir) {
  const include = join(workDir, `announcer-d${director.index}`);
  mkdirSync(include, { recursive: true }); // a glob include tolerates no file, not a missing folder
  const bird = await startDirectorBird(lab.topology, director, {
    config: (logFile) => [`router id ${director.link.address};`, `log "${logFile}" all;`, 'protocol device { scan time 5; }', `include "${include}/*.conf";`, ''].join('\n'),
  });
  const config = {
    localAsn: director.asn,
    cidrs: [VIP_CIDR],
    neighbors: [{ name: 'router', address: director.routerAddress, asn: lab.plan.router.asn, sourceAddress: director.link.address, holdTime: 9, keepaliveTime: 3, connectRetryTime: 1, connectDelayTime: 1 }],
    outputFile: join(include, 'balanced-vips.conf'),
    birdSocket: bird.controlSocket,
    birdConfig: bird.configFile,
  };
  const configFile = join(workDir, `vip-announcer-d${director.index}.yaml`);
  writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`); // JSON is YAML
  const port = ANNOUNCER_PORT + director.index;
  const p = procs.start(`vip-announcer-d${director.index}`, binary(repo, 'vip-announcer'), [
    `--config=${configFile}`, '--kubeconfig', kubeconfig, `--controller-ready-url=${url(CONTROLLER_PORT + director.index)}`,
    '--failure-threshold=3', '--probe-interval-ms=1000', '--probe-timeout-ms=3000', '--metrics-host=127.0.0.1', `--metrics-port=${port}`,
  ]);
  await procs.ready(p, url(port));
  return p;
}

/** deploy/endpoint-controller.yaml, finding pod namespaces by the /proc scan (no CRI runtime here). */
export async function startEndpointController(procs, repo, kubeconfig) {
  const p = procs.start('endpoint-controller', binary(repo, 'endpoint-controller'), [
    '--kubeconfig', kubeconfig, `--node-name=${NODE}`, `--vip-cidr=${VIP_CIDR}`, '--no-cri', '--proc-root=/proc',
    '--metrics-host=127.0.0.1', `--metrics-port=${ENDPOINTS_PORT}`,
  ]);
  await procs.ready(p, url(ENDPOINTS_PORT));
  return p;
}

/**
 * deploy/cgroup-resolver.yaml (NODE_NAME and POD_NAMESPACE from the downward API: this node's
 * agent, a candidate for the Lease of the policy-status writer), attached to the demo node's
 * cgroup (the client pod and the node-local pod below it) with its own pin root. Returns at
 * once: `ready` waits for its /readyz (it starts while the directors do).
 */
export function startResolver(procs, repo, kubeconfig, cgroup, pinRoot) {
  const p = procs.start('cgroup-resolver', binary(repo, 'cgroup-resolver'), [
    '--kubeconfig', kubeconfig, `--node-name=${NODE}`, '--status-namespace=balanced-system', `--cgroup=${cgroup}`, `--pin-root=${pinRoot}`,
    '--metrics-host=127.0.0.1', `--metrics-port=${RESOLVER_PORT}`,
  ]);
  return { process: p, ready: () => procs.ready(p, url(RESOLVER_PORT)) };
}

// Probes as the kubelet runs them: httpGet and tcpSocket from the pod's network namespace (the
// kubelet's own with hostNetwork: the same namespace), exec inside the container.

import { run } from '../exec.js';
import { execInContainerArgv } from './container-command.js';
import type { ContainerPlan, PodLaunchPlan, ProbePlan } from './types.js';

/** `http://host:port/path` (an IPv6 host in brackets). */
export function probeUrl(p: Extract<ProbePlan, { kind: 'http' }>): string {
  const host = p.host.includes(':') ? `[${p.host}]` : p.host;
  const path = p.path.startsWith('/') ? p.path : `/${p.path}`;
  return `${p.scheme.toLowerCase()}://${host}:${p.port}${path}`;
}

/**
 * argv of one probe attempt (exit status 0 = success); busybox's wget and nc, which the lab host
 * has (busybox-static). `timeoutSeconds`: the probe's own unless a longer one is given (under
 * QEMU's emulation a busy component answers in seconds, not the kubelet's default 1 s).
 */
export function probeArgv(pod: PodLaunchPlan, c: ContainerPlan, netns: string, pid: number, p: ProbePlan, minTimeoutSeconds = 0): string[] {
  const timeoutSeconds = Math.max(p.timeoutSeconds, minTimeoutSeconds);
  switch (p.kind) {
    case 'http':
      // The kubelet counts 200..399 as success; busybox wget fails on >= 400 and follows redirects.
      // No -T: Debian's busybox-static wget crashes with it on a refused connection (probeOnce
      // enforces the timeout by killing it).
      // HTTPS: the kubelet does not verify the certificate; busybox wget (which hands TLS to
      // `openssl s_client -verify_return_error`) would, without --no-check-certificate.
      return ['nsenter', `--net=${netns}`, '--', 'busybox', 'wget', ...(p.scheme === 'HTTPS' ? ['--no-check-certificate'] : []), '-O', '-', probeUrl(p)];
    case 'tcp':
      // (stdin closed: nc exits once connected)
      return ['nsenter', `--net=${netns}`, '--', 'sh', '-c', 'exec busybox nc -w "$1" "$2" "$3" </dev/null', 'sh', String(timeoutSeconds), p.host, String(p.port)];
    case 'exec':
      return execInContainerArgv(pod, c, pid, p.command);
  }
}

/** One probe attempt: whether it succeeded, and what it printed (the body of an HTTP probe, the errors). */
export async function probeOnce(pod: PodLaunchPlan, c: ContainerPlan, netns: string, pid: number, p: ProbePlan, minTimeoutSeconds = 0): Promise<{ ok: boolean; output: string }> {
  const [file, ...args] = probeArgv(pod, c, netns, pid, p, minTimeoutSeconds);
  const r = await run(file!, args, { timeoutMs: (Math.max(p.timeoutSeconds, minTimeoutSeconds) + 1) * 1000 });
  return { ok: r.code === 0, output: `${r.stdout}${r.stderr}`.trim().slice(0, 500) };
}

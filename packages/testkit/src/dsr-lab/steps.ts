import { startPodServer, type PodServer } from '../traffic/pod-server.js';
import { startTrafficClient, type TrafficClient } from '../traffic/traffic-client.js';
import { renderDirectorBirdConfig, renderRouterBirdConfig } from './bird-config.js';
import { startBird, type BirdDaemon } from './bird-daemon.js';
import type { DirectorPlan } from './plan.js';
import type { DsrTopology } from './topology.js';

/**
 * The separable steps that run on a topology. Each registers what it starts with the
 * topology, so `topology.dispose()` stops it whatever else ran.
 */

/** The router's BIRD (BGP to every director, ECMP into the kernel). */
export async function startRouterBird(topology: DsrTopology, options: { birdBinary?: string } = {}): Promise<BirdDaemon> {
  const { plan } = topology;
  const bird = await startBird({
    netns: plan.router.netns,
    name: 'router',
    workDir: topology.workDir,
    config: (log) => renderRouterBirdConfig(plan, log),
    ...options,
  });
  topology.defer(() => bird.stop());
  return bird;
}

/**
 * A director's BIRD announcing the VIP. `config` replaces the hand-written configuration
 * (e.g. with vip-announcer's rendering); it is given the log file to write to.
 */
export async function startDirectorBird(
  topology: DsrTopology,
  director: DirectorPlan,
  options: { config?: (logFile: string) => string; birdBinary?: string } = {},
): Promise<BirdDaemon> {
  const bird = await startBird({
    netns: director.netns,
    name: `director${director.index}`,
    workDir: topology.workDir,
    config: options.config ?? ((log) => renderDirectorBirdConfig(topology.plan, director, log)),
    ...(options.birdBinary !== undefined ? { birdBinary: options.birdBinary } : {}),
  });
  topology.defer(() => bird.stop());
  return bird;
}

/** Every pod's TCP + UDP servers on VIP:port (the VIP must already be on the pod's tunl0). */
export async function startPodServers(topology: DsrTopology): Promise<PodServer[]> {
  const { plan } = topology;
  const started = await Promise.allSettled(plan.pods.map((p) => startPodServer({ netns: p.netns, name: p.name, address: plan.vip, port: plan.port })));
  const servers: PodServer[] = [];
  for (const s of started) {
    if (s.status === 'fulfilled') {
      servers.push(s.value);
      topology.defer(() => s.value.stop());
    }
  }
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
  return servers;
}

/** The traffic client in the client namespace. */
export async function startLabClient(topology: DsrTopology): Promise<TrafficClient> {
  const client = await startTrafficClient(topology.plan.client.netns);
  topology.defer(() => client.stop());
  return client;
}

import type { PodServer } from '../traffic/pod-server.js';
import type { TrafficClient } from '../traffic/traffic-client.js';
import type { Endpoint } from '../traffic/types.js';
import type { BirdDaemon } from './bird-daemon.js';
import { programDirectorManually } from './director-manual.js';
import { planDsrLab, type DsrLabOptions, type DsrLabPlan } from './plan.js';
import { configurePodTunnelManually } from './pod-manual.js';
import { waitForVipNexthops } from './router-routes.js';
import { startDirectorBird, startLabClient, startPodServers, startRouterBird } from './steps.js';
import { settleAll } from './settle.js';
import { createDsrTopology, type DsrTopology } from './topology.js';

/**
 * Which steps `createDsrLab` runs by hand. Turn one off to let the real component do it
 * (ipvs-controller, vip-announcer, endpoint-controller) and run the rest yourself.
 */
export interface DsrLabSteps {
  /** IPVS sysctls, VIP on the dummy interface and both IPVS services on every director. Default true. */
  readonly programDirectors?: boolean;
  /** A hand-written BIRD on every director announcing the VIP. Default true. */
  readonly announceVip?: boolean;
  /** tunl0 up with the VIP, MTU and rp_filter in every pod. Default true. */
  readonly configurePods?: boolean;
  /**
   * The pods' TCP + UDP servers. They bind the VIP, so they need it on tunl0 first; default:
   * the same as configurePods (without it, run the endpoint-controller, then `startPodServers`).
   */
  readonly startServers?: boolean;
}

export interface CreateDsrLabOptions extends DsrLabOptions {
  readonly steps?: DsrLabSteps;
  /** How long to wait for the router's multipath route; default 60 s. */
  readonly convergenceTimeoutMs?: number;
}

export interface DsrLab {
  readonly plan: DsrLabPlan;
  readonly topology: DsrTopology;
  /** VIP:port. */
  readonly target: Endpoint;
  readonly routerBird: BirdDaemon;
  /** By director index (only when announceVip ran). */
  readonly directorBirds: ReadonlyMap<number, BirdDaemon>;
  /** Empty when startServers was off. */
  readonly servers: readonly PodServer[];
  readonly client: TrafficClient;
  /** Milliseconds per phase of the build. */
  readonly timings: Readonly<Record<string, number>>;
  /** Stops every process and deletes every namespace (also what a failed build does). */
  dispose(): Promise<void>;
}

async function timed<T>(timings: Record<string, number>, name: string, fn: () => Promise<T>): Promise<T> {
  const started = Date.now();
  const value = await fn();
  timings[name] = Date.now() - started;
  return value;
}

/**
 * The whole DSR lab: topology, then the manual steps, BIRD everywhere, servers and the
 * traffic client; with announceVip it waits until the router routes the VIP through every
 * director. On failure everything already created is removed before the error is thrown.
 */
export async function createDsrLab(options: CreateDsrLabOptions = {}): Promise<DsrLab> {
  const configurePods = options.steps?.configurePods ?? true;
  const steps = { programDirectors: true, announceVip: true, configurePods, startServers: configurePods, ...options.steps };
  const timings: Record<string, number> = {};
  const plan = planDsrLab(options);
  const topology = await timed(timings, 'topologyMs', () => createDsrTopology(plan));
  try {
    await timed(timings, 'manualProgrammingMs', async () => {
      await settleAll([
        ...(steps.programDirectors ? plan.directors.map((d) => programDirectorManually(plan, d)) : []),
        ...(steps.configurePods ? plan.pods.map((p) => configurePodTunnelManually(plan, p)) : []),
      ]);
    });
    const birdStarted = Date.now();
    const routerBird = await startRouterBird(topology);
    const directorBirds = new Map<number, BirdDaemon>();
    if (steps.announceVip) {
      const birds = await settleAll(plan.directors.map((d) => startDirectorBird(topology, d)));
      for (const [i, d] of plan.directors.entries()) directorBirds.set(d.index, birds[i]!);
    }
    const [servers, client] = await timed(timings, 'nodeProcessesMs', () =>
      settleAll<[PodServer[], TrafficClient]>([steps.startServers ? startPodServers(topology) : Promise.resolve([]), startLabClient(topology)]),
    );
    if (steps.announceVip) {
      await waitForVipNexthops(
        plan,
        plan.directors.map((d) => d.link.address),
        options.convergenceTimeoutMs !== undefined ? { timeoutMs: options.convergenceTimeoutMs } : {},
      );
      timings.bgpMultipathMs = Date.now() - birdStarted;
    }
    return {
      plan,
      topology,
      target: { address: plan.vip, port: plan.port },
      routerBird,
      directorBirds,
      servers,
      client,
      timings,
      dispose: () => topology.dispose(),
    };
  } catch (e) {
    await topology.dispose().catch(() => undefined);
    throw e;
  }
}

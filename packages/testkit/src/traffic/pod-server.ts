import { NodeChild } from './node-child.js';
import { POD_SERVER_SCRIPT } from './pod-server-script.js';

/** A pod's TCP + UDP servers (one node process in the pod's namespace). */
export interface PodServer {
  readonly netns: string;
  readonly name: string;
  readonly pid: number;
  /** Stops the process by its pid. Idempotent. */
  stop(): Promise<void>;
}

export interface PodServerOptions {
  readonly netns: string;
  /** What the servers answer with (the pod's name). */
  readonly name: string;
  /** Address both servers bind (the VIP: it must already be local in the namespace). */
  readonly address: string;
  readonly port: number;
  /** Default 60 s (node starts slowly under TCG, and several start at once). */
  readonly readyTimeoutMs?: number;
}

/** Starts the servers and resolves once both listen. */
export async function startPodServer(options: PodServerOptions): Promise<PodServer> {
  const child = NodeChild.start(options.netns, `pod server ${options.name}`, POD_SERVER_SCRIPT, { name: options.name, address: options.address, port: options.port }, { stdin: false });
  try {
    await child.nextUnsolicited(options.readyTimeoutMs ?? 60_000);
  } catch (e) {
    await child.stop();
    throw e;
  }
  return { netns: options.netns, name: options.name, pid: child.pid, stop: () => child.stop() };
}

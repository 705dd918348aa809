import { existsSync } from 'node:fs';
import { CriResolver } from './netns/cri.js';
import { ProcScanResolver } from './netns/proc-scan.js';
import { FirstFoundResolver, type PodNetnsResolver } from './netns/resolver.js';

/** Where containerd and CRI-O listen, in the order they are tried. */
export const DEFAULT_CRI_SOCKETS: readonly string[] = ['/run/containerd/containerd.sock', '/var/run/crio/crio.sock'];

export interface ResolverChoice {
  /** Candidate runtime sockets; the first that exists is used. Empty: no CRI. */
  readonly criSockets: readonly string[];
  /** Fall back to scanning /proc. */
  readonly procScan: boolean;
  readonly procRoot: string;
  readonly exists?: (path: string) => boolean;
}

/** CRI first (when a socket exists), then the /proc scan. Throws when neither is available. */
export function chooseResolver(choice: ResolverChoice): PodNetnsResolver {
  const exists = choice.exists ?? existsSync;
  const chain: PodNetnsResolver[] = [];
  const socket = choice.criSockets.find((s) => exists(s));
  if (socket !== undefined) chain.push(new CriResolver({ socket, procRoot: choice.procRoot }));
  if (choice.procScan) chain.push(new ProcScanResolver({ procRoot: choice.procRoot }));
  if (chain.length === 0) {
    throw new Error(
      `no way to find pod network namespaces: no CRI socket at ${choice.criSockets.join(' or ') || '(none given)'} and the /proc scan is off; mount the runtime socket or drop --no-proc-scan`,
    );
  }
  return chain.length === 1 ? (chain[0] as PodNetnsResolver) : new FirstFoundResolver(chain);
}

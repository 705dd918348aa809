// How a pod in a lab network namespace reaches the test API server, which listens on this
// namespace's loopback: a veth from here into the pod's (or node's) namespace, a /30 on it, and a
// TCP forwarder on this side's address to the server. The pod's kubeconfig names
// http://<this side>:<port>. This is the runner's one departure from a real pod (a Service
// address and the in-cluster config over TLS there).

import { createConnection, createServer, type Server, type Socket } from 'node:net';

import { parse } from 'yaml';

import { testKubeconfigYaml } from '../apiserver/kubeconfig.js';
import { run, runChecked } from '../exec.js';
import { ManifestRunError } from './types.js';

export interface ApiBridge {
  /** The server as the pod reaches it, e.g. http://10.209.1.1:41234 */
  readonly url: string;
  /** This namespace's end of the veth. */
  readonly hostAddress: string;
  /** The pod namespace's end (its address on the `api` interface). */
  readonly podAddress: string;
  close(): Promise<void>;
}

export interface BridgeOptions {
  /** Network namespace name (under /run/netns) of the pod or node. */
  readonly netns: string;
  /** 1..254: the bridge's /30 is 10.209.<index>.0/30 (unique per bridge). */
  readonly index: number;
  /** The API server's loopback URL (TestApiServer.url). */
  readonly apiUrl: string;
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** A veth into the namespace and a forwarder to the API server on its far end. */
export async function bridgeApiServer(options: BridgeOptions): Promise<ApiBridge> {
  const { netns, index } = options;
  if (!Number.isInteger(index) || index < 1 || index > 254) throw new ManifestRunError(`bridge index must be 1..254, got ${index}`);
  const target = new URL(options.apiUrl);
  const port = Number(target.port);
  const hostAddress = `10.209.${index}.1`;
  const podAddress = `10.209.${index}.2`;
  const hostIf = `bapi${index}`;
  await runChecked('ip', ['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', 'api', 'netns', netns]);
  const sockets = new Set<Socket>();
  const server = createServer((inbound) => {
    const outbound = createConnection({ host: target.hostname, port });
    sockets.add(inbound).add(outbound);
    const drop = (): void => {
      inbound.destroy();
      outbound.destroy();
      sockets.delete(inbound);
      sockets.delete(outbound);
    };
    inbound.on('error', drop).on('close', drop);
    outbound.on('error', drop).on('close', drop);
    inbound.pipe(outbound);
    outbound.pipe(inbound);
  });
  try {
    await runChecked('ip', ['addr', 'add', `${hostAddress}/30`, 'dev', hostIf]);
    await runChecked('ip', ['link', 'set', hostIf, 'up']);
    await runChecked('ip', ['-n', netns, 'addr', 'add', `${podAddress}/30`, 'dev', 'api']);
    await runChecked('ip', ['-n', netns, 'link', 'set', 'api', 'up']);
    await runChecked('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
    await listen(server, hostAddress, port);
  } catch (e) {
    await run('ip', ['link', 'del', hostIf]);
    throw e;
  }
  return {
    url: `http://${hostAddress}:${port}`,
    hostAddress,
    podAddress,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await run('ip', ['link', 'del', hostIf]);
    },
  };
}

/**
 * What planPod's apiAccess needs for a ServiceAccount of `server`: a token the server issued for
 * it and a kubeconfig with that token for `url` (the bridge's), namespace = the ServiceAccount's.
 */
export function serviceAccountAccess(
  server: { serviceAccountKubeconfigYaml(namespace: string, name: string): string },
  namespace: string,
  name: string,
  url: string,
): { token: string; kubeconfig: string } {
  const issued = parse(server.serviceAccountKubeconfigYaml(namespace, name)) as { users?: { user?: { token?: unknown } }[] };
  const token = issued.users?.[0]?.user?.token;
  if (typeof token !== 'string') throw new ManifestRunError(`no token issued for ServiceAccount ${namespace}/${name}`);
  return { token, kubeconfig: testKubeconfigYaml(url, namespace, token) };
}

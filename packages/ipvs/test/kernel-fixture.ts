import { existsSync } from 'node:fs';
import { createNetns, deleteNetns, run, runChecked } from '@balanced/testkit';
import { IpvsClient } from '../src/index.js';

/**
 * Kernel tests run inside the lab VM (`npm run test:kernel`). Outside it they fail loudly
 * rather than skip: a kernel test that silently does nothing proves nothing.
 */
export function assertIpvsKernel(): void {
  if (!existsSync('/proc/net/ip_vs')) {
    throw new Error('IPVS is not available in this kernel: run kernel tests with `npm run test:kernel` (they boot the lab VM)');
  }
}

/** A fresh network namespace with its own (empty) IPVS table and a client bound to it. */
export interface IpvsNamespace {
  readonly name: string;
  readonly client: IpvsClient;
  /** Run ipvsadm inside the namespace. */
  ipvsadm(...args: string[]): Promise<string>;
  dispose(): Promise<void>;
}

export async function ipvsNamespace(): Promise<IpvsNamespace> {
  assertIpvsKernel();
  const name = await createNetns();
  const client = await IpvsClient.open({ netns: `/run/netns/${name}` });
  return {
    name,
    client,
    ipvsadm: (...args) => runChecked('ip', ['netns', 'exec', name, 'ipvsadm', ...args]),
    async dispose() {
      client.close();
      await deleteNetns(name);
    },
  };
}

export { run };

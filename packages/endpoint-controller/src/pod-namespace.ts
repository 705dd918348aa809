// One pod's network namespace, held open by a descriptor for the time it is read and changed.
// Nothing moves the process: the rtnetlink socket is opened inside the namespace and stays
// bound to it, /proc/sys is read and written by the calling thread between two setns() calls
// with no await in between, and iptables runs in a child that enters it.
import { closeSync, fstatSync, openSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { Errno, NetlinkError, RouteClient, inNamespace } from '@balanced/netlink';
import { PodTunnelError, errorMessage } from './errors.js';
import type { NamespaceIptables } from './iptables.js';
import { MSS_CHAIN, parseMangleSave, renderMssRestore } from './mss-rules.js';
import { TUNNEL_DEVICE, TUNNEL_RP_FILTER, type TunnelActual, type TunnelOp } from './tunnel-plan.js';

export interface PodNamespaceOptions {
  readonly iptables: NamespaceIptables;
  /** The node's network namespace (a pod path that opens it is refused). Default /proc/1/ns/net. */
  readonly hostNetns?: string;
}

export class PodNamespace {
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly fd: number,
    private readonly route: RouteClient,
    private readonly iptables: NamespaceIptables,
  ) {}

  /** Open (and pin) the namespace at `path`. NetnsNotFound if it is gone, HostNetns if it is the node's. */
  static open(path: string, options: PodNamespaceOptions): PodNamespace {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      throw new PodTunnelError('NetnsNotFound', `the network namespace ${path} is gone: ${errorMessage(e)}`, { cause: e });
    }
    const hostNetns = options.hostNetns ?? '/proc/1/ns/net';
    try {
      const mine = fstatSync(fd);
      let host: { dev: number; ino: number };
      try {
        host = statSync(hostNetns);
      } catch (e) {
        throw new PodTunnelError(
          'NetnsLookupFailed',
          `cannot read the node's own network namespace ${hostNetns} to make sure ${path} is not it (is the host's /proc at --proc-root, with hostPID?): ${errorMessage(e)}`,
          { cause: e },
        );
      }
      if (mine.dev === host.dev && mine.ino === host.ino) {
        throw new PodTunnelError('HostNetns', `${path} is the node's own network namespace; refusing to program it as a pod's`);
      }
      const route = RouteClient.open({ netns: pinned(fd) });
      return new PodNamespace(path, fd, route, options.iptables);
    } catch (e) {
      closeSync(fd);
      if (e instanceof PodTunnelError) throw e;
      throw new PodTunnelError('NetlinkFailed', `cannot open rtnetlink in ${path}: ${errorMessage(e)}`, { cause: e });
    }
  }

  /** What the namespace holds now: tunl0, the pod interface, tunl0's addresses, rp_filter, our MSS chain. */
  async read(podIP: string): Promise<TunnelActual> {
    const [links, addresses] = await this.netlink('read links and addresses', async () => [await this.route.listLinks(), await this.route.listAddresses()] as const);
    const tunnel = links.find((l) => l.name === TUNNEL_DEVICE);
    const podAddress = addresses.find((a) => a.family === 'inet' && a.address === podIP);
    const podLink = podAddress === undefined ? undefined : links.find((l) => l.index === podAddress.linkIndex);
    let save: string;
    try {
      save = await this.iptables.save(this.fd, 'mangle');
    } catch (e) {
      throw new PodTunnelError('IptablesFailed', `reading the mangle table: ${errorMessage(e)}`, { cause: e });
    }
    return {
      tunnel: tunnel === undefined ? undefined : { up: tunnel.up, mtu: tunnel.mtu },
      podInterface: podLink === undefined ? undefined : { name: podLink.name, mtu: podLink.mtu },
      addresses: tunnel === undefined ? [] : addresses.filter((a) => a.linkIndex === tunnel.index && a.family === 'inet').map((a) => `${a.address}/${a.prefixLength}`),
      rpFilter: tunnel === undefined ? undefined : this.sysctl('read', TUNNEL_RP_FILTER),
      mss: parseMangleSave(save),
    };
  }

  /** Apply ops in order; the first failure stops (the next attempt re-reads and re-plans). */
  async apply(ops: readonly TunnelOp[]): Promise<void> {
    for (const op of ops) {
      switch (op.op) {
        case 'create-tunnel':
          try {
            await this.route.createLink({ name: TUNNEL_DEVICE, kind: 'ipip' });
          } catch (e) {
            const missing = e instanceof NetlinkError && e.errno === Errno.EOPNOTSUPP;
            throw new PodTunnelError(
              'TunnelUnavailable',
              missing
                ? `the pod has no ${TUNNEL_DEVICE} and the kernel cannot create one: load the ipip module on the node (modprobe ipip)`
                : `creating ${TUNNEL_DEVICE}: ${errorMessage(e)}`,
              { cause: e },
            );
          }
          break;
        case 'set-mtu':
          await this.netlink(`set ${TUNNEL_DEVICE} mtu ${op.mtu}`, () => this.route.setMtu(TUNNEL_DEVICE, op.mtu));
          break;
        case 'link-up':
          await this.netlink(`set ${TUNNEL_DEVICE} up`, () => this.route.setUp(TUNNEL_DEVICE, true));
          break;
        case 'set-sysctl':
          this.sysctl('write', op.name, op.value);
          break;
        case 'add-address':
          await this.netlink(`add ${op.prefix} to ${TUNNEL_DEVICE}`, () => this.route.addAddress(TUNNEL_DEVICE, op.prefix));
          break;
        case 'delete-address':
          await this.netlink(`delete ${op.prefix} from ${TUNNEL_DEVICE}`, () => this.route.deleteAddress(TUNNEL_DEVICE, op.prefix));
          break;
        case 'write-mss':
        case 'remove-mss':
          try {
            await this.iptables.restore(this.fd, renderMssRestore(op));
          } catch (e) {
            throw new PodTunnelError('IptablesFailed', `${op.op === 'write-mss' ? 'writing' : 'removing'} the mangle chain ${MSS_CHAIN}: ${errorMessage(e)}`, { cause: e });
          }
          break;
      }
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.route.close();
    closeSync(this.fd);
  }

  private async netlink<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw new PodTunnelError('NetlinkFailed', `${what}: ${errorMessage(e)}`, { cause: e });
    }
  }

  /** /proc/sys/net resolves against the calling thread's namespace: synchronous, inside it. */
  private sysctl(mode: 'read', name: string): string;
  private sysctl(mode: 'write', name: string, value: string): void;
  private sysctl(mode: 'read' | 'write', name: string, value?: string): string | void {
    const file = `/proc/sys/${name}`;
    try {
      return inNamespace(pinned(this.fd), () => {
        if (mode === 'read') return readFileSync(file, 'utf8').trim();
        writeFileSync(file, `${value ?? ''}\n`);
        return undefined;
      });
    } catch (e) {
      throw new PodTunnelError('SysctlFailed', `${mode === 'read' ? 'reading' : `setting ${name.replaceAll('/', '.')}=${value ?? ''}:`} ${file}: ${errorMessage(e)}`, { cause: e });
    }
  }
}

/** Our own descriptor as a path: opening it opens the very namespace we hold. */
function pinned(fd: number): string {
  return `/proc/self/fd/${fd}`;
}

import { AttributeEncoder } from '../codec/attribute-encoder.js';
import { concatBytes } from '../codec/bytes.js';
import { NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL } from '../codec/constants.js';
import type { NetlinkMessage } from '../codec/message.js';
import { NetlinkConnection, type NetlinkRequest, type Transport } from '../connection.js';
import { Errno, NetlinkError } from '../errors.js';
import { parseAddressPrefix } from '@balanced/net';
import { familyNumber } from '../family.js';
import { NetlinkSocket, type NetlinkSocketOptions } from '../socket/netlink-socket.js';
import { NETLINK_ROUTE } from '../codec/constants.js';
import {
  IFA_ADDRESS,
  IFA_LOCAL,
  IFF_UP,
  IFLA_IFNAME,
  IFLA_INFO_DATA,
  IFLA_INFO_KIND,
  IFLA_LINKINFO,
  IFLA_MTU,
  RTM_DELADDR,
  RTM_DELLINK,
  RTM_GETADDR,
  RTM_GETLINK,
  RTM_NEWADDR,
  RTM_NEWLINK,
  RT_SCOPE_HOST,
  RT_SCOPE_UNIVERSE,
  VETH_INFO_PEER,
} from './constants.js';
import { decodeAddress, decodeLink, encodeIfaddr, encodeIfinfo, type InterfaceAddress, type Link } from './messages.js';

export interface CreateLinkOptions {
  readonly name: string;
  /** rtnl_link_ops kind: "dummy", "veth", ... */
  readonly kind: string;
  readonly mtu?: number;
  /** For veth: the peer's name (created in the same namespace). */
  readonly peerName?: string;
  readonly up?: boolean;
}

export class LinkNotFoundError extends Error {
  override readonly name = 'LinkNotFoundError';
  readonly code = 'LINK_NOT_FOUND';
  constructor(readonly link: string) {
    super(`network interface "${link}" does not exist`);
  }
}

/**
 * rtnetlink link and address operations the controllers need: create a dummy interface,
 * bring it up, add/remove host addresses, list. Addresses are "a.b.c.d/len" text.
 */
export class RouteClient {
  constructor(private readonly transport: Transport) {}

  static open(options: NetlinkSocketOptions = {}): RouteClient {
    return new RouteClient(new NetlinkConnection(NetlinkSocket.open(NETLINK_ROUTE, options)));
  }

  close(): void {
    this.transport.close();
  }

  async listLinks(): Promise<Link[]> {
    const messages = await this.one({ type: RTM_GETLINK, flags: NLM_F_DUMP, data: encodeIfinfo({}), op: 'RTM_GETLINK dump' });
    return messages.filter((m) => m.header.type === RTM_NEWLINK).map((m) => decodeLink(m.data));
  }

  /** The link called `name`, or undefined. */
  async getLink(name: string): Promise<Link | undefined> {
    const data = concatBytes(encodeIfinfo({}), new AttributeEncoder().string(IFLA_IFNAME, name).encode());
    try {
      const messages = await this.one({ type: RTM_GETLINK, data, op: `RTM_GETLINK ${name}`, replyBytes: 16384 });
      const m = messages.find((x) => x.header.type === RTM_NEWLINK);
      return m ? decodeLink(m.data) : undefined;
    } catch (e) {
      if (e instanceof NetlinkError && e.errno === Errno.ENODEV) return undefined;
      throw e;
    }
  }

  async createLink(options: CreateLinkOptions): Promise<Link> {
    const attrs = new AttributeEncoder().string(IFLA_IFNAME, options.name);
    if (options.mtu !== undefined) attrs.u32(IFLA_MTU, options.mtu);
    attrs.nested(IFLA_LINKINFO, (info) => {
      info.string(IFLA_INFO_KIND, options.kind);
      if (options.peerName !== undefined) {
        const peerName = options.peerName;
        info.nested(IFLA_INFO_DATA, (data) =>
          data.bytes(VETH_INFO_PEER, concatBytes(encodeIfinfo({}), new AttributeEncoder().string(IFLA_IFNAME, peerName).encode())),
        );
      }
    });
    await this.one({
      type: RTM_NEWLINK,
      flags: NLM_F_CREATE | NLM_F_EXCL,
      data: concatBytes(encodeIfinfo({ flags: options.up ? IFF_UP : 0, change: options.up ? IFF_UP : 0 }), attrs.encode()),
      op: `RTM_NEWLINK ${options.kind} ${options.name}`,
    });
    return this.requireLink(options.name);
  }

  /** Create unless a link of that name exists already; returns it either way. */
  async ensureLink(options: CreateLinkOptions): Promise<Link> {
    const existing = await this.getLink(options.name);
    if (existing) {
      if (options.up && !existing.up) await this.setUp(existing.name, true);
      return this.requireLink(options.name);
    }
    return this.createLink(options);
  }

  async setUp(name: string, up: boolean): Promise<void> {
    const link = await this.requireLink(name);
    await this.one({
      type: RTM_NEWLINK,
      data: encodeIfinfo({ index: link.index, flags: up ? IFF_UP : 0, change: IFF_UP }),
      op: `RTM_NEWLINK set ${name} ${up ? 'up' : 'down'}`,
    });
  }

  async setMtu(name: string, mtu: number): Promise<void> {
    const link = await this.requireLink(name);
    const data = concatBytes(encodeIfinfo({ index: link.index }), new AttributeEncoder().u32(IFLA_MTU, mtu).encode());
    await this.one({ type: RTM_NEWLINK, data, op: `RTM_NEWLINK set ${name} mtu ${mtu}` });
  }

  async deleteLink(name: string): Promise<void> {
    const link = await this.requireLink(name);
    await this.one({ type: RTM_DELLINK, data: encodeIfinfo({ index: link.index }), op: `RTM_DELLINK ${name}` });
  }

  /** Addresses, optionally only those of one link. */
  async listAddresses(linkName?: string): Promise<InterfaceAddress[]> {
    const index = linkName === undefined ? undefined : (await this.requireLink(linkName)).index;
    const messages = await this.one({ type: RTM_GETADDR, flags: NLM_F_DUMP, data: encodeIfaddr({ family: 0, prefixLength: 0, scope: 0, index: 0 }), op: 'RTM_GETADDR dump' });
    const all = messages.filter((m) => m.header.type === RTM_NEWADDR).map((m) => decodeAddress(m.data));
    return index === undefined ? all : all.filter((a) => a.linkIndex === index);
  }

  /** Add `prefix` ("10.0.0.1/32") to a link. EEXIST is reported as an error. */
  async addAddress(linkName: string, prefix: string): Promise<void> {
    await this.addressOp(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, linkName, prefix);
  }

  async deleteAddress(linkName: string, prefix: string): Promise<void> {
    await this.addressOp(RTM_DELADDR, 0, linkName, prefix);
  }

  private async addressOp(type: number, flags: number, linkName: string, prefixText: string): Promise<void> {
    const link = await this.requireLink(linkName);
    const prefix = parseAddressPrefix(prefixText);
    const loopback = prefix.address.family === 'inet' && prefix.address.bytes[0] === 127;
    const header = encodeIfaddr({
      family: familyNumber(prefix.address.family),
      prefixLength: prefix.prefixLength,
      scope: loopback ? RT_SCOPE_HOST : RT_SCOPE_UNIVERSE,
      index: link.index,
    });
    const attrs = new AttributeEncoder().bytes(IFA_LOCAL, prefix.address.bytes).bytes(IFA_ADDRESS, prefix.address.bytes).encode();
    const verb = type === RTM_NEWADDR ? 'RTM_NEWADDR' : 'RTM_DELADDR';
    await this.one({ type, flags, data: concatBytes(header, attrs), op: `${verb} ${prefixText} dev ${linkName}` });
  }

  private async requireLink(name: string): Promise<Link> {
    const link = await this.getLink(name);
    if (!link) throw new LinkNotFoundError(name);
    return link;
  }

  private async one(request: NetlinkRequest): Promise<readonly NetlinkMessage[]> {
    const [outcome] = await this.transport.execute([request]);
    if (!outcome) throw new Error('rtnetlink: no outcome');
    if (!outcome.ok) throw outcome.error;
    return outcome.messages;
  }
}

// A scripted stand-in for the kernel end of a netlink socket, implementing `Datagrams`.
// send() parses the requests with decodeMessages and hands them to the script, which queues
// reply datagrams (or errors such as ENOBUFS) that receive()/tryReceive() then hand out.
// receive() on an empty queue resolves null, as the real socket does at its deadline.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { AttributeEncoder } from '../../src/codec/attribute-encoder.js';
import { HOST_LITTLE_ENDIAN } from '../../src/codec/byte-order.js';
import {
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSGERR_ATTR_MSG,
  NLMSGERR_ATTR_OFFS,
  NLM_F_ACK_TLVS,
  NLM_F_CAPPED,
  NLM_F_MULTI,
} from '../../src/codec/constants.js';
import { decodeMessages, encodeMessage, type NetlinkMessage } from '../../src/codec/message.js';
import { Errno } from '../../src/errno.js';
import { NetlinkError } from '../../src/errors.js';
import type { Datagrams } from '../../src/socket/datagrams.js';
import { b } from './bytes.js';

export const KERNEL_PORT_ID = 4242;

type Queued = Uint8Array | Error;

export interface FakeKernelOptions {
  readonly receiveBufferBytes?: number;
  readonly sendBufferBytes?: number;
  /** Yield to the event loop in receive(), so concurrent callers could interleave. */
  readonly asyncReceive?: boolean;
}

export class FakeKernel implements Datagrams {
  readonly receiveBufferBytes: number;
  readonly sendBufferBytes: number;
  readonly portId = KERNEL_PORT_ID;
  /** The messages of each send() call, in order. */
  readonly sends: NetlinkMessage[][] = [];
  /** Datagrams (or errors) waiting to be received. */
  readonly queue: Queued[] = [];
  /** "send 5,6,7" / "recv" / "recv null" / "recv error" / "try" events, in order. */
  readonly log: string[] = [];
  readonly receiveTimeouts: number[] = [];
  closed = false;
  /** Make the next send() throw this. */
  failNextSend: Error | undefined;
  private readonly asyncReceive: boolean;

  constructor(
    private readonly onSend: (requests: readonly NetlinkMessage[], kernel: FakeKernel) => void,
    options: FakeKernelOptions = {},
  ) {
    this.receiveBufferBytes = options.receiveBufferBytes ?? 1 << 20;
    this.sendBufferBytes = options.sendBufferBytes ?? 1 << 20;
    this.asyncReceive = options.asyncReceive ?? false;
  }

  send(bytes: Uint8Array): void {
    if (this.failNextSend) {
      const e = this.failNextSend;
      this.failNextSend = undefined;
      throw e;
    }
    const requests = decodeMessages(bytes);
    this.sends.push(requests);
    this.log.push(`send ${requests.map((r) => r.header.sequence).join(',')}`);
    this.onSend(requests, this);
  }

  async receive(timeoutMs: number): Promise<Uint8Array | null> {
    this.receiveTimeouts.push(timeoutMs);
    if (this.asyncReceive) await nextTurn();
    const next = this.queue.shift();
    if (next === undefined) {
      this.log.push('recv null');
      return null;
    }
    if (next instanceof Error) {
      this.log.push('recv error');
      throw next;
    }
    this.log.push('recv');
    return next;
  }

  tryReceive(): Uint8Array | null {
    const next = this.queue[0];
    if (next === undefined || next instanceof Error) return null;
    this.queue.shift();
    this.log.push('try');
    return next;
  }

  close(): void {
    this.closed = true;
  }

  /** Queue one datagram holding these messages. */
  push(...messages: Uint8Array[]): void {
    this.queue.push(b(...messages));
  }

  /** Queue a receive error, e.g. ENOBUFS. */
  pushError(error: Error): void {
    this.queue.push(error);
  }

  /** Sequence numbers of everything sent so far. */
  get sentSequences(): number[] {
    return this.sends.flat().map((m) => m.header.sequence);
  }
}

/** Queue a success ack for each request, one datagram each. */
export function ackAll(requests: readonly NetlinkMessage[], kernel: FakeKernel): void {
  for (const r of requests) kernel.push(ack(r));
}

export function enobufs(): NetlinkError {
  return new NetlinkError({ code: 'NETLINK_SYSCALL', op: 'recvmsg', errno: Errno.ENOBUFS });
}

/**
 * NLMSG_ERROR answering `request`: capped (header echoed, payload not), with ext-ack TLVs when
 * a message or offset is given.
 */
export function ack(request: NetlinkMessage, errno = 0, extAck: { message?: string; offset?: number } = {}): Uint8Array {
  const tlvs = new AttributeEncoder();
  if (extAck.message !== undefined) tlvs.string(NLMSGERR_ATTR_MSG, extAck.message);
  if (extAck.offset !== undefined) tlvs.u32(NLMSGERR_ATTR_OFFS, extAck.offset);
  const tlvBytes = tlvs.encode();
  const error = new Uint8Array(4);
  new DataView(error.buffer).setInt32(0, -errno, HOST_LITTLE_ENDIAN);
  const echoed = encodeMessage(request.header, new Uint8Array(0));
  new DataView(echoed.buffer).setUint32(0, 16 + request.data.length, HOST_LITTLE_ENDIAN); // the request's own nlmsg_len
  return encodeMessage(
    { type: NLMSG_ERROR, flags: NLM_F_CAPPED | (tlvBytes.length > 0 ? NLM_F_ACK_TLVS : 0), sequence: request.header.sequence, portId: KERNEL_PORT_ID },
    b(error, echoed, tlvBytes),
  );
}

/** A reply message (e.g. a NEW_* answering a GET, or one dump entry). */
export function reply(request: NetlinkMessage, data: Uint8Array, options: { type?: number; flags?: number; sequence?: number } = {}): Uint8Array {
  return encodeMessage(
    { type: options.type ?? request.header.type, flags: options.flags ?? 0, sequence: options.sequence ?? request.header.sequence, portId: KERNEL_PORT_ID },
    data,
  );
}

/** NLMSG_DONE ending a dump; errno > 0 reports a failed dump. */
export function done(request: NetlinkMessage, errno = 0, flags = NLM_F_MULTI): Uint8Array {
  const data = new Uint8Array(4);
  new DataView(data.buffer).setInt32(0, -errno, HOST_LITTLE_ENDIAN);
  return encodeMessage({ type: NLMSG_DONE, flags, sequence: request.header.sequence, portId: KERNEL_PORT_ID }, data);
}

import { setImmediate as nextTurn } from 'node:timers/promises';
import { decodeAck, decodeDone } from './codec/ack.js';
import { concatBytes } from './codec/bytes.js';
import { NLMSG_DONE, NLMSG_ERROR, NLM_F_ACK, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_REQUEST } from './codec/constants.js';
import { MalformedMessageError } from './codec/errors.js';
import { decodeMessages, encodeMessage, type NetlinkMessage } from './codec/message.js';
import { Errno } from './errno.js';
import { NetlinkError } from './errors.js';
import type { Datagrams } from './socket/datagrams.js';

export interface NetlinkRequest {
  readonly type: number;
  /** Extra flags; NLM_F_REQUEST is always set, NLM_F_ACK on every non-dump. NLM_F_DUMP makes it a dump. */
  readonly flags?: number;
  readonly data: Uint8Array;
  /** Label for errors, e.g. "IPVS NEW_DEST". */
  readonly op?: string;
  /**
   * Receive-buffer bytes its reply may occupy beyond the ack (e.g. a GET answered by one
   * message). Only affects how many requests share a window.
   */
  readonly replyBytes?: number;
}

export type RequestOutcome =
  | { readonly ok: true; readonly messages: readonly NetlinkMessage[] }
  | { readonly ok: false; readonly error: NetlinkError };

/**
 * The seam between clients and the kernel: requests in, one outcome each out, in order.
 * NetlinkConnection is the real one; tests may pass any function of this shape.
 */
export interface Transport {
  execute(requests: readonly NetlinkRequest[]): Promise<RequestOutcome[]>;
  close(): void;
}

export interface ConnectionOptions {
  /** How long to wait for the kernel before giving up on outstanding requests. */
  readonly timeoutMs?: number;
  /** Receive-buffer bytes budgeted per pipelined request (the ack's skb truesize, rounded up). */
  readonly ackBudgetBytes?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_ACK_BUDGET = 2048;

/**
 * Request/ack, dumps, and pipelined batches over one netlink socket. Consecutive non-dump
 * requests are packed into one sendmsg per window; a window holds as many requests as their
 * acks fit in the receive buffer, so normally nothing overflows. If it does (ENOBUFS), every
 * request of that window without a reply becomes NETLINK_OUTCOME_UNKNOWN and the rest of the
 * batch NETLINK_NOT_SENT: the caller re-reads kernel state. Dumps run one at a time (the
 * kernel allows one per socket). Calls are serialised.
 */
export class NetlinkConnection implements Transport {
  private sequence = (Date.now() & 0x7fffffff) >>> 0;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly timeoutMs: number;
  private readonly ackBudget: number;

  constructor(
    private readonly socket: Datagrams,
    options: ConnectionOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.ackBudget = options.ackBudgetBytes ?? DEFAULT_ACK_BUDGET;
  }

  execute(requests: readonly NetlinkRequest[]): Promise<RequestOutcome[]> {
    const run = this.queue.then(() => this.executeNow(requests));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** One request; its reply messages, or the kernel's error thrown. */
  async request(request: NetlinkRequest): Promise<readonly NetlinkMessage[]> {
    const [outcome] = await this.execute([request]);
    if (!outcome) throw new Error('netlink: no outcome for request');
    if (!outcome.ok) throw outcome.error;
    return outcome.messages;
  }

  close(): void {
    this.socket.close();
  }

  private async executeNow(requests: readonly NetlinkRequest[]): Promise<RequestOutcome[]> {
    const outcomes: RequestOutcome[] = [];
    let i = 0;
    while (i < requests.length) {
      const first = requests[i] as NetlinkRequest;
      if (isDump(first)) {
        outcomes.push(await this.dump(first));
        i += 1;
        continue;
      }
      const end = this.windowEnd(requests, i);
      const { results, overrun } = await this.pipeline(requests.slice(i, end));
      outcomes.push(...results);
      i = end;
      if (overrun) {
        for (; i < requests.length; i++) {
          outcomes.push({ ok: false, error: new NetlinkError({ code: 'NETLINK_NOT_SENT', op: opOf(requests[i] as NetlinkRequest) }) });
        }
      }
      if (i < requests.length) await nextTurn();
    }
    return outcomes;
  }

  /** End (exclusive) of the window starting at `start`. */
  private windowEnd(requests: readonly NetlinkRequest[], start: number): number {
    const receiveLimit = this.socket.receiveBufferBytes;
    const sendLimit = this.socket.sendBufferBytes - 64;
    let sendBytes = 0;
    let receiveBytes = 0;
    let end = start;
    while (end < requests.length) {
      const r = requests[end] as NetlinkRequest;
      if (isDump(r)) break;
      const size = 16 + r.data.length + 3;
      const cost = this.ackBudget + (r.replyBytes ?? 0);
      if (end > start && (sendBytes + size > sendLimit || receiveBytes + cost > receiveLimit)) break;
      sendBytes += size;
      receiveBytes += cost;
      end += 1;
    }
    return end;
  }

  private nextSequence(): number {
    this.sequence = (this.sequence + 1) >>> 0 || 1;
    return this.sequence;
  }

  private async pipeline(window: readonly NetlinkRequest[]): Promise<{ results: RequestOutcome[]; overrun: boolean }> {
    const bySequence = new Map<number, number>();
    const collected: NetlinkMessage[][] = window.map(() => []);
    const results: (RequestOutcome | undefined)[] = window.map(() => undefined);
    const encoded = window.map((r, index) => {
      const sequence = this.nextSequence();
      bySequence.set(sequence, index);
      return encodeMessage(
        { type: r.type, flags: NLM_F_REQUEST | NLM_F_ACK | (r.flags ?? 0), sequence, portId: 0 },
        r.data,
      );
    });
    try {
      this.socket.send(concatBytes(...encoded));
    } catch (e) {
      const error = asNetlinkError(e, 'sendmsg');
      return { results: window.map(() => ({ ok: false, error })), overrun: false };
    }
    let pending = window.length;
    const settle = (message: NetlinkMessage): void => {
      const index = bySequence.get(message.header.sequence);
      if (index === undefined || results[index]) return; // stale reply from an earlier batch
      const request = window[index] as NetlinkRequest;
      if (message.header.type !== NLMSG_ERROR) {
        (collected[index] as NetlinkMessage[]).push(message);
        return;
      }
      const ack = decodeAck(message);
      results[index] =
        ack.errno === 0
          ? { ok: true, messages: collected[index] as NetlinkMessage[] }
          : {
              ok: false,
              error: new NetlinkError({ code: 'NETLINK_KERNEL_ERROR', op: opOf(request), errno: ack.errno, extAck: ack.extAck, sequence: message.header.sequence }),
            };
      pending -= 1;
    };

    let overrun = false;
    let failure: NetlinkError | undefined;
    while (pending > 0) {
      let datagram: Uint8Array | null;
      try {
        datagram = await this.socket.receive(this.timeoutMs);
      } catch (e) {
        const error = asNetlinkError(e, 'recvmsg');
        if (error.errno !== Errno.ENOBUFS) {
          failure = error;
          break;
        }
        overrun = true;
        // Replies already queued are real answers; take them, then give up on the rest.
        for (let d = this.safeTryReceive(); d && pending > 0; d = this.safeTryReceive()) {
          this.consume(d, settle, (err) => (failure ??= err));
        }
        break;
      }
      if (!datagram) {
        failure = new NetlinkError({ code: 'NETLINK_TIMEOUT', op: 'recvmsg' });
        break;
      }
      this.consume(datagram, settle, (err) => (failure ??= err));
      if (failure) break;
    }
    const filled = results.map((r, index): RequestOutcome => {
      if (r) return r;
      const op = opOf(window[index] as NetlinkRequest);
      return { ok: false, error: overrun ? new NetlinkError({ code: 'NETLINK_OUTCOME_UNKNOWN', op, errno: Errno.ENOBUFS }) : reOp(failure, op) };
    });
    return { results: filled, overrun: overrun || failure !== undefined };
  }

  private async dump(request: NetlinkRequest): Promise<RequestOutcome> {
    const sequence = this.nextSequence();
    const op = opOf(request);
    try {
      this.socket.send(
        encodeMessage({ type: request.type, flags: NLM_F_REQUEST | NLM_F_DUMP | (request.flags ?? 0), sequence, portId: 0 }, request.data),
      );
    } catch (e) {
      return { ok: false, error: asNetlinkError(e, op) };
    }
    const messages: NetlinkMessage[] = [];
    let interrupted = false;
    let result: RequestOutcome | undefined;
    while (!result) {
      let datagram: Uint8Array | null;
      try {
        datagram = await this.socket.receive(this.timeoutMs);
      } catch (e) {
        const error = asNetlinkError(e, op);
        if (error.errno === Errno.ENOBUFS) {
          this.drain();
          return { ok: false, error: new NetlinkError({ code: 'NETLINK_OUTCOME_UNKNOWN', op, errno: Errno.ENOBUFS }) };
        }
        return { ok: false, error };
      }
      if (!datagram) return { ok: false, error: new NetlinkError({ code: 'NETLINK_TIMEOUT', op, sequence }) };
      this.consume(
        datagram,
        (m) => {
          if (m.header.sequence !== sequence || result) return;
          if ((m.header.flags & NLM_F_DUMP_INTR) !== 0) interrupted = true;
          if (m.header.type === NLMSG_DONE) {
            const done = decodeDone(m);
            result = done.errno
              ? { ok: false, error: new NetlinkError({ code: 'NETLINK_KERNEL_ERROR', op, errno: done.errno, extAck: done.extAck, sequence }) }
              : { ok: true, messages };
          } else if (m.header.type === NLMSG_ERROR) {
            const ack = decodeAck(m);
            result = ack.errno
              ? { ok: false, error: new NetlinkError({ code: 'NETLINK_KERNEL_ERROR', op, errno: ack.errno, extAck: ack.extAck, sequence }) }
              : { ok: true, messages };
          } else {
            messages.push(m);
          }
        },
        (error) => (result ??= { ok: false, error }),
      );
    }
    if (result.ok && interrupted) {
      return { ok: false, error: new NetlinkError({ code: 'NETLINK_DUMP_INTERRUPTED', op, sequence }) };
    }
    return result;
  }

  private consume(datagram: Uint8Array, onMessage: (m: NetlinkMessage) => void, onError: (e: NetlinkError) => void): void {
    try {
      for (const m of decodeMessages(datagram)) onMessage(m);
    } catch (e) {
      if (e instanceof MalformedMessageError) {
        onError(new NetlinkError({ code: 'NETLINK_MALFORMED_REPLY', op: 'decode reply', cause: e }));
      } else throw e;
    }
  }

  private safeTryReceive(): Uint8Array | null {
    try {
      return this.socket.tryReceive();
    } catch {
      return null;
    }
  }

  private drain(): void {
    while (this.safeTryReceive()) {
      /* discard */
    }
  }
}

function isDump(r: NetlinkRequest): boolean {
  return ((r.flags ?? 0) & NLM_F_DUMP) === NLM_F_DUMP;
}

function opOf(r: NetlinkRequest): string {
  return r.op ?? `netlink type ${r.type}`;
}

function asNetlinkError(e: unknown, op: string): NetlinkError {
  if (e instanceof NetlinkError) return e;
  return new NetlinkError({ code: 'NETLINK_SYSCALL', op, cause: e });
}

function reOp(failure: NetlinkError | undefined, op: string): NetlinkError {
  if (!failure) return new NetlinkError({ code: 'NETLINK_TIMEOUT', op });
  return new NetlinkError({ code: failure.code, op, errno: failure.errno, extAck: failure.extAck, cause: failure });
}

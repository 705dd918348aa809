import { describe, expect, it } from '@jest/globals';
import { NLMSG_DONE, NLM_F_ACK, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_MULTI, NLM_F_REQUEST } from '../src/codec/constants.js';
import { MalformedMessageError } from '../src/codec/errors.js';
import type { NetlinkMessage } from '../src/codec/message.js';
import { NetlinkConnection, type NetlinkRequest, type RequestOutcome } from '../src/connection.js';
import { Errno } from '../src/errno.js';
import { NetlinkError } from '../src/errors.js';
import { ack, ackAll, done, enobufs, FakeKernel, reply } from './support/fake-kernel.js';

const FAMILY = 0x25;

/** Request number `n`: its payload is [n, 0, 0, 0] so the fake kernel can tell them apart. */
function req(n: number, extra: Partial<NetlinkRequest> = {}): NetlinkRequest {
  return { type: FAMILY, data: Uint8Array.of(n, 0, 0, 0), op: `op ${n}`, ...extra };
}
const dumpReq = (n: number, extra: Partial<NetlinkRequest> = {}): NetlinkRequest => req(n, { flags: NLM_F_DUMP, ...extra });
const idOf = (m: NetlinkMessage): number => m.data[0] ?? -1;

function ok(o: RequestOutcome | undefined): readonly NetlinkMessage[] {
  if (!o?.ok) throw new Error(`expected ok, got ${o ? o.error.message : 'nothing'}`);
  return o.messages;
}
function failed(o: RequestOutcome | undefined): NetlinkError {
  if (!o || o.ok) throw new Error('expected a failure');
  return o.error;
}
const codes = (outcomes: readonly RequestOutcome[]): string[] => outcomes.map((o) => (o.ok ? 'ok' : o.error.code));

describe('NetlinkConnection: request / ack', () => {
  it('sends one REQUEST|ACK message and resolves on the ack', async () => {
    const kernel = new FakeKernel(ackAll);
    const conn = new NetlinkConnection(kernel, { timeoutMs: 1234 });
    const outcomes = await conn.execute([req(1)]);
    expect(outcomes).toEqual([{ ok: true, messages: [] }]);
    expect(kernel.sends).toHaveLength(1);
    const [sent] = kernel.sends[0] ?? [];
    expect(sent?.header).toMatchObject({ type: FAMILY, flags: NLM_F_REQUEST | NLM_F_ACK, portId: 0 });
    expect(Array.from(sent?.data ?? [])).toEqual([1, 0, 0, 0]);
    expect(kernel.receiveTimeouts).toEqual([1234]);
  });

  it('executes an empty batch without touching the socket', async () => {
    const kernel = new FakeKernel(ackAll);
    expect(await new NetlinkConnection(kernel).execute([])).toEqual([]);
    expect(kernel.sends).toEqual([]);
    expect(kernel.receiveTimeouts).toEqual([]);
  });

  it('collects reply messages that precede the ack, across datagrams', async () => {
    const kernel = new FakeKernel(([r], k) => {
      if (!r) return;
      k.push(reply(r, Uint8Array.of(0xaa)));
      k.push(reply(r, Uint8Array.of(0xbb)), ack(r)); // second reply and the ack share a datagram
    });
    const conn = new NetlinkConnection(kernel);
    const messages = await conn.request(req(1));
    expect(messages.map((m) => Array.from(m.data))).toEqual([[0xaa], [0xbb]]);
    expect(messages.every((m) => m.header.type === FAMILY)).toBe(true);
  });

  it('a kernel error with ext-ack becomes NETLINK_KERNEL_ERROR with errno, message and offset', async () => {
    const kernel = new FakeKernel(([r], k) => {
      if (r) k.push(ack(r, Errno.EINVAL, { message: 'Invalid weight', offset: 36 }));
    });
    const conn = new NetlinkConnection(kernel);
    const [outcome] = await conn.execute([req(1, { op: 'IPVS NEW_DEST' })]);
    const error = failed(outcome);
    expect(error).toBeInstanceOf(NetlinkError);
    expect(error.code).toBe('NETLINK_KERNEL_ERROR');
    expect(error.errno).toBe(Errno.EINVAL);
    expect(error.op).toBe('IPVS NEW_DEST');
    expect(error.extAck).toEqual({ message: 'Invalid weight', offset: 36 });
    expect(error.sequence).toBe(kernel.sentSequences[0]);
    expect(error.outcomeUnknown).toBe(false);
    expect(error.message).toBe('IPVS NEW_DEST: EINVAL (22) — kernel says: Invalid weight (at request byte 36)');
  });

  it('request() throws the kernel error; the default op names the message type', async () => {
    const kernel = new FakeKernel(([r], k) => {
      if (r) k.push(ack(r, Errno.EPERM));
    });
    const conn = new NetlinkConnection(kernel);
    await expect(conn.request({ type: 0x30, data: new Uint8Array(0) })).rejects.toMatchObject({
      code: 'NETLINK_KERNEL_ERROR',
      errno: Errno.EPERM,
      op: 'netlink type 48',
      message: 'netlink type 48: EPERM (1)',
    });
  });

  it('close() closes the socket', () => {
    const kernel = new FakeKernel(ackAll);
    new NetlinkConnection(kernel).close();
    expect(kernel.closed).toBe(true);
  });
});

describe('NetlinkConnection: dumps', () => {
  /** Answers a dump with entries 1..5 spread over three datagrams, then NLMSG_DONE. */
  function dumpKernel(finish: (r: NetlinkMessage, k: FakeKernel) => void = (r, k) => k.push(done(r))) {
    return new FakeKernel(([r], k) => {
      if (!r) return;
      const entry = (n: number, flags = NLM_F_MULTI) => reply(r, Uint8Array.of(n), { flags });
      k.push(entry(1), entry(2));
      k.push(entry(3));
      k.push(entry(4), entry(5));
      finish(r, k);
    });
  }

  it('gathers a multi-part dump over several datagrams until NLMSG_DONE', async () => {
    const kernel = dumpKernel((r, k) => k.push(reply(r, Uint8Array.of(6), { flags: NLM_F_MULTI }), done(r)));
    const conn = new NetlinkConnection(kernel);
    const messages = ok((await conn.execute([dumpReq(9)]))[0]);
    expect(messages.map(idOf)).toEqual([1, 2, 3, 4, 5, 6]);
    // A dump is REQUEST|DUMP, without ACK.
    expect(kernel.sends[0]?.[0]?.header.flags).toBe(NLM_F_REQUEST | NLM_F_DUMP);
    expect(kernel.log.filter((e) => e === 'recv')).toHaveLength(4);
  });

  it('ignores messages of other sequences during a dump', async () => {
    const kernel = new FakeKernel(([r], k) => {
      if (!r) return;
      k.push(reply(r, Uint8Array.of(99), { sequence: r.header.sequence - 1, flags: NLM_F_MULTI }));
      k.push(done(r, 0), reply(r, Uint8Array.of(98), { sequence: r.header.sequence + 1 }));
      k.push(reply(r, Uint8Array.of(1), { flags: NLM_F_MULTI }), done(r));
    });
    // The first DONE (seq matches) ends it with no entries; the rest stays queued.
    const conn = new NetlinkConnection(kernel);
    expect(ok((await conn.execute([dumpReq(1)]))[0])).toEqual([]);
  });

  it('an empty dump is just NLMSG_DONE', async () => {
    const kernel = new FakeKernel(([r], k) => r && k.push(done(r)));
    expect(await new NetlinkConnection(kernel).execute([dumpReq(1)])).toEqual([{ ok: true, messages: [] }]);
  });

  it('NLMSG_DONE with a negative errno is a kernel error', async () => {
    const kernel = dumpKernel((r, k) => k.push(done(r, Errno.EMSGSIZE)));
    const error = failed((await new NetlinkConnection(kernel).execute([dumpReq(1)]))[0]);
    expect(error.code).toBe('NETLINK_KERNEL_ERROR');
    expect(error.errno).toBe(Errno.EMSGSIZE);
    expect(error.message).toContain('EMSGSIZE (90)');
  });

  it('a dump refused with NLMSG_ERROR fails with that errno', async () => {
    const kernel = new FakeKernel(([r], k) => r && k.push(ack(r, Errno.EPERM, { message: 'no' })));
    const error = failed((await new NetlinkConnection(kernel).execute([dumpReq(1, { op: 'list' })]))[0]);
    expect(error).toMatchObject({ code: 'NETLINK_KERNEL_ERROR', errno: Errno.EPERM, op: 'list', extAck: { message: 'no' } });
  });

  it('NLM_F_DUMP_INTR on any part → NETLINK_DUMP_INTERRUPTED', async () => {
    const kernel = new FakeKernel(([r], k) => {
      if (!r) return;
      k.push(reply(r, Uint8Array.of(1), { flags: NLM_F_MULTI }));
      k.push(reply(r, Uint8Array.of(2), { flags: NLM_F_MULTI | NLM_F_DUMP_INTR }));
      k.push(done(r, 0, NLM_F_MULTI | NLM_F_DUMP_INTR));
    });
    const error = failed((await new NetlinkConnection(kernel).execute([dumpReq(1, { op: 'dump things' })]))[0]);
    expect(error.code).toBe('NETLINK_DUMP_INTERRUPTED');
    expect(error.message).toMatch(/^dump things: dump interrupted .*repeat it/);
    expect(error.outcomeUnknown).toBe(false);
  });

  it('ENOBUFS during a dump → NETLINK_OUTCOME_UNKNOWN and the queue is drained', async () => {
    const kernel = new FakeKernel(([r], k) => {
      if (!r) return;
      k.push(reply(r, Uint8Array.of(1), { flags: NLM_F_MULTI }));
      k.pushError(enobufs());
      k.push(reply(r, Uint8Array.of(2), { flags: NLM_F_MULTI }));
      k.push(done(r));
    });
    const error = failed((await new NetlinkConnection(kernel).execute([dumpReq(1)]))[0]);
    expect(error.code).toBe('NETLINK_OUTCOME_UNKNOWN');
    expect(error.errno).toBe(Errno.ENOBUFS);
    expect(error.outcomeUnknown).toBe(true);
    expect(kernel.queue).toEqual([]);
  });

  it('a timeout during a dump → NETLINK_TIMEOUT', async () => {
    const kernel = new FakeKernel(([r], k) => r && k.push(reply(r, Uint8Array.of(1), { flags: NLM_F_MULTI })));
    const error = failed((await new NetlinkConnection(kernel, { timeoutMs: 5 }).execute([dumpReq(1)]))[0]);
    expect(error.code).toBe('NETLINK_TIMEOUT');
    expect(kernel.receiveTimeouts).toEqual([5, 5]);
  });

  it('a malformed datagram during a dump → NETLINK_MALFORMED_REPLY', async () => {
    const kernel = new FakeKernel(([r], k) => {
      if (!r) return;
      k.push(reply(r, Uint8Array.of(1), { flags: NLM_F_MULTI }));
      k.queue.push(Uint8Array.of(0xff, 0x00, 0x00, 0x00, 0x03, 0x00)); // 6 bytes: short header
    });
    const error = failed((await new NetlinkConnection(kernel).execute([dumpReq(1)]))[0]);
    expect(error.code).toBe('NETLINK_MALFORMED_REPLY');
    expect(error.cause).toBeInstanceOf(MalformedMessageError);
  });

  it('dumps inside a batch go alone, in order, between pipelined windows', async () => {
    const kernel = new FakeKernel((requests, k) => {
      for (const r of requests) {
        if ((r.header.flags & NLM_F_DUMP) === NLM_F_DUMP) k.push(reply(r, Uint8Array.of(idOf(r) + 100), { flags: NLM_F_MULTI }), done(r));
        else k.push(reply(r, Uint8Array.of(idOf(r))), ack(r));
      }
    });
    const outcomes = await new NetlinkConnection(kernel).execute([req(1), req(2), dumpReq(3), dumpReq(4), req(5)]);
    expect(outcomes.map((o) => ok(o).map(idOf))).toEqual([[1], [2], [103], [104], [5]]);
    expect(kernel.sends.map((s) => s.map(idOf))).toEqual([[1, 2], [3], [4], [5]]);
  });
});

describe('NetlinkConnection: pipelined batches', () => {
  /** Every request gets a reply echoing its payload, then an ack: one datagram each. */
  const echo = (requests: readonly NetlinkMessage[], k: FakeKernel): void => {
    for (const r of requests) k.push(reply(r, r.data), ack(r));
  };

  it('packs requests into windows limited by the receive buffer (ack budget 2048)', async () => {
    const kernel = new FakeKernel(echo, { receiveBufferBytes: 3 * 2048 });
    const requests = Array.from({ length: 10 }, (_, i) => req(i));
    const outcomes = await new NetlinkConnection(kernel).execute(requests);
    expect(kernel.sends.map((s) => s.length)).toEqual([3, 3, 3, 1]);
    expect(kernel.sends.map((s) => s.map(idOf))).toEqual([[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]);
    for (const m of kernel.sends.flat()) expect(m.header.flags).toBe(NLM_F_REQUEST | NLM_F_ACK);
    // Sequence numbers are consecutive across windows.
    const seqs = kernel.sentSequences;
    expect(seqs.slice(1).map((s, i) => s - (seqs[i] as number))).toEqual(new Array(9).fill(1));
    // Every outcome is in request order, carrying its own reply.
    expect(outcomes.map((o) => ok(o).map(idOf))).toEqual(requests.map((_, i) => [i]));
  });

  it('honours ackBudgetBytes and replyBytes when sizing windows', async () => {
    const kernel = new FakeKernel(echo, { receiveBufferBytes: 4000 });
    const conn = new NetlinkConnection(kernel, { ackBudgetBytes: 1000 });
    await conn.execute(Array.from({ length: 9 }, (_, i) => req(i)));
    expect(kernel.sends.map((s) => s.length)).toEqual([4, 4, 1]);
    kernel.sends.length = 0;
    // ack 1000 + reply 2000 = 3000 each: one per window; a request bigger than the buffer still goes alone.
    await conn.execute([req(0, { replyBytes: 2000 }), req(1, { replyBytes: 2000 }), req(2, { replyBytes: 1e6 }), req(3)]);
    expect(kernel.sends.map((s) => s.map(idOf))).toEqual([[0], [1], [2], [3]]);
  });

  it('a window is also limited by the send buffer', async () => {
    // Each request is 16 + 4 bytes (+3 slack) = 23; the limit is sendBufferBytes - 64.
    const kernel = new FakeKernel(echo, { sendBufferBytes: 64 + 2 * 23 });
    await new NetlinkConnection(kernel).execute(Array.from({ length: 5 }, (_, i) => req(i)));
    expect(kernel.sends.map((s) => s.length)).toEqual([2, 2, 1]);
  });

  it('matches replies by sequence, even when the kernel answers out of order', async () => {
    const kernel = new FakeKernel((requests, k) => echo([...requests].reverse(), k));
    const outcomes = await new NetlinkConnection(kernel).execute([req(1), req(2), req(3)]);
    expect(outcomes.map((o) => ok(o).map(idOf))).toEqual([[1], [2], [3]]);
  });

  it('one failing request in the middle does not stop the others', async () => {
    const kernel = new FakeKernel((requests, k) => {
      for (const r of requests) k.push(idOf(r) === 2 ? ack(r, Errno.EEXIST, { message: 'exists' }) : ack(r));
    });
    const outcomes = await new NetlinkConnection(kernel).execute([req(0), req(1), req(2), req(3), req(4)]);
    expect(codes(outcomes)).toEqual(['ok', 'ok', 'NETLINK_KERNEL_ERROR', 'ok', 'ok']);
    expect(failed(outcomes[2])).toMatchObject({ errno: Errno.EEXIST, op: 'op 2', extAck: { message: 'exists' } });
    expect(kernel.sends).toHaveLength(1);
  });

  it('ENOBUFS: answered requests keep their outcome, the rest of the window is unknown, later windows not sent', async () => {
    // Window of 5 (receive buffer 5 × 2048) out of a batch of 8. The kernel handles all five,
    // but only three acks fit: two are received, then recvmsg reports ENOBUFS, then the
    // third is still queued; the acks of 3 and 4 were dropped.
    const kernel = new FakeKernel(
      (requests, k) => {
        const [a, b, c] = requests;
        if (!a || !b || !c) throw new Error('expected at least three requests');
        k.push(ack(a));
        k.push(ack(b, Errno.EEXIST));
        k.pushError(enobufs());
        k.push(ack(c));
      },
      { receiveBufferBytes: 5 * 2048 },
    );
    const outcomes = await new NetlinkConnection(kernel).execute(Array.from({ length: 8 }, (_, i) => req(i)));
    expect(codes(outcomes)).toEqual([
      'ok',
      'NETLINK_KERNEL_ERROR',
      'ok',
      'NETLINK_OUTCOME_UNKNOWN',
      'NETLINK_OUTCOME_UNKNOWN',
      'NETLINK_NOT_SENT',
      'NETLINK_NOT_SENT',
      'NETLINK_NOT_SENT',
    ]);
    expect(failed(outcomes[1]).errno).toBe(Errno.EEXIST);
    const unknown = failed(outcomes[3]);
    expect(unknown).toMatchObject({ op: 'op 3', errno: Errno.ENOBUFS, outcomeUnknown: true });
    expect(unknown.message).toMatch(/^op 3: outcome unknown/);
    const notSent = failed(outcomes[7]);
    expect(notSent).toMatchObject({ op: 'op 7', outcomeUnknown: true });
    expect(notSent.message).toMatch(/^op 7: not sent/);
    expect(kernel.sends).toHaveLength(1);
    expect(kernel.log).toEqual(['send ' + kernel.sentSequences.join(','), 'recv', 'recv', 'recv error', 'try']);
  });

  it('ignores stale replies with unknown sequence numbers and duplicate acks', async () => {
    const kernel = new FakeKernel((requests, k) => {
      for (const r of requests) {
        k.push(ack({ ...r, header: { ...r.header, sequence: r.header.sequence + 1000 } }, Errno.EINVAL)); // unknown seq
        k.push(reply(r, Uint8Array.of(7), { sequence: 1 })); // unknown seq
        k.push(reply(r, r.data), ack(r));
        k.push(ack(r, Errno.EBUSY)); // duplicate for an answered request
      }
    });
    const outcomes = await new NetlinkConnection(kernel).execute([req(1), req(2)]);
    expect(outcomes.map((o) => ok(o).map(idOf))).toEqual([[1], [2]]);
  });

  it('late replies to a timed-out batch do not leak into the next one', async () => {
    let late: NetlinkMessage[] = [];
    const kernel = new FakeKernel((requests, k) => {
      for (const r of late) k.push(ack(r, Errno.EINVAL)); // the previous batch's answers, finally
      late = [];
      for (const r of requests) {
        if (idOf(r) === 1) late.push(r); // answer nothing for now
        else k.push(ack(r));
      }
    });
    const conn = new NetlinkConnection(kernel, { timeoutMs: 1 });
    const [first] = await conn.execute([req(1)]);
    expect(failed(first)).toMatchObject({ code: 'NETLINK_TIMEOUT', op: 'op 1' });
    expect(failed(first).message).toBe('op 1: no reply from the kernel in time');
    expect(codes(await conn.execute([req(2)]))).toEqual(['ok']);
  });

  it('a timeout fails the unanswered requests and stops the batch', async () => {
    const kernel = new FakeKernel(
      (requests, k) => {
        const [a] = requests;
        if (a) k.push(ack(a));
      },
      { receiveBufferBytes: 3 * 2048 },
    );
    const outcomes = await new NetlinkConnection(kernel).execute(Array.from({ length: 5 }, (_, i) => req(i)));
    expect(codes(outcomes)).toEqual(['ok', 'NETLINK_TIMEOUT', 'NETLINK_TIMEOUT', 'NETLINK_NOT_SENT', 'NETLINK_NOT_SENT']);
    expect(failed(outcomes[1]).op).toBe('op 1');
    expect(kernel.sends).toHaveLength(1);
  });

  it('a malformed reply datagram → NETLINK_MALFORMED_REPLY for the unanswered, no crash', async () => {
    let calls = 0;
    const kernel = new FakeKernel((requests, k) => {
      calls += 1;
      if (calls > 1) return ackAll(requests, k);
      const [a] = requests;
      if (a) k.push(ack(a));
      // nlmsg_len 64 in a 20-byte datagram
      k.queue.push(Uint8Array.of(0x40, 0, 0, 0, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
    });
    const conn = new NetlinkConnection(kernel);
    const outcomes = await conn.execute([req(0), req(1), req(2)]);
    expect(codes(outcomes)).toEqual(['ok', 'NETLINK_MALFORMED_REPLY', 'NETLINK_MALFORMED_REPLY']);
    const error = failed(outcomes[1]);
    expect(error.op).toBe('op 1');
    expect(error.cause).toBeInstanceOf(NetlinkError);
    expect((error.cause as NetlinkError).cause).toBeInstanceOf(MalformedMessageError);
    expect((error.cause as NetlinkError).message).toContain('runs past the end');
    // The connection is still usable.
    expect(codes(await conn.execute([req(3)]))).toEqual(['ok']);
  });

  it('an NLMSG_ERROR too short for struct nlmsgerr → NETLINK_MALFORMED_REPLY', async () => {
    const kernel = new FakeKernel(([r], k) => r && k.push(reply(r, Uint8Array.of(0, 0, 0, 0), { type: 2 })));
    const [outcome] = await new NetlinkConnection(kernel).execute([req(1)]);
    expect(failed(outcome).code).toBe('NETLINK_MALFORMED_REPLY');
  });

  it('a failing sendmsg fails its window with NETLINK_SYSCALL, keeping the cause', async () => {
    const kernel = new FakeKernel(ackAll, { receiveBufferBytes: 2 * 2048 });
    const cause = new NetlinkError({ code: 'NETLINK_SYSCALL', op: 'sendmsg', errno: Errno.EMSGSIZE });
    kernel.failNextSend = cause;
    const outcomes = await new NetlinkConnection(kernel).execute([req(0), req(1), req(2)]);
    // The window that could not be sent fails; later windows still go (nothing was applied).
    expect(codes(outcomes)).toEqual(['NETLINK_SYSCALL', 'NETLINK_SYSCALL', 'ok']);
    expect(failed(outcomes[0])).toBe(cause);
    const plain = new FakeKernel(ackAll);
    plain.failNextSend = new Error('EBADF');
    const [wrapped] = await new NetlinkConnection(plain).execute([req(0)]);
    expect(failed(wrapped)).toMatchObject({ code: 'NETLINK_SYSCALL', op: 'sendmsg' });
    expect((failed(wrapped).cause as Error).message).toBe('EBADF');
  });

  it('a receive error other than ENOBUFS fails the unanswered with that errno', async () => {
    const kernel = new FakeKernel(([a], k) => {
      if (a) k.push(ack(a));
      k.pushError(new NetlinkError({ code: 'NETLINK_SYSCALL', op: 'recvmsg', errno: Errno.EINTR }));
    });
    const outcomes = await new NetlinkConnection(kernel).execute([req(0), req(1)]);
    expect(codes(outcomes)).toEqual(['ok', 'NETLINK_SYSCALL']);
    expect(failed(outcomes[1])).toMatchObject({ errno: Errno.EINTR, op: 'op 1', outcomeUnknown: false });
  });

  it('concurrent execute() calls are serialised: no interleaving of sends and receives', async () => {
    const kernel = new FakeKernel(
      (requests, k) => {
        for (const r of requests) k.push(reply(r, r.data), ack(r));
      },
      { asyncReceive: true },
    );
    const conn = new NetlinkConnection(kernel);
    const [a, bOutcomes, c] = await Promise.all([
      conn.execute([req(1), req(2)]),
      conn.execute([req(3)]),
      conn.request(req(4)),
    ]);
    expect(a.map((o) => ok(o).map(idOf))).toEqual([[1], [2]]);
    expect(bOutcomes.map((o) => ok(o).map(idOf))).toEqual([[3]]);
    expect(c.map(idOf)).toEqual([4]);
    const [s1, s2, s3, s4] = kernel.sentSequences as [number, number, number, number];
    expect([s2 - s1, s3 - s2, s4 - s3]).toEqual([1, 1, 1]);
    expect(kernel.log).toEqual([`send ${s1},${s2}`, 'recv', 'recv', `send ${s3}`, 'recv', `send ${s4}`, 'recv']);
  });

  it('a send() that throws fails its window; the connection goes on', async () => {
    const kernel = new FakeKernel((requests, k) => {
      const [r] = requests;
      if (r && idOf(r) === 1) throw new Error('kernel exploded');
      ackAll(requests, k);
    });
    const conn = new NetlinkConnection(kernel);
    const [first] = await conn.execute([req(1)]);
    expect(failed(first).code).toBe('NETLINK_SYSCALL');
    expect(codes(await conn.execute([req(2)]))).toEqual(['ok']);
  });

  it('a call that rejects does not block the queue for the next one', async () => {
    const kernel = new FakeKernel(ackAll);
    let explode = true;
    Object.defineProperty(kernel, 'receiveBufferBytes', {
      get: () => {
        if (explode) {
          explode = false;
          throw new Error('getsockopt failed');
        }
        return 1 << 20;
      },
    });
    const conn = new NetlinkConnection(kernel);
    const first = conn.execute([req(1)]);
    const second = conn.execute([req(2)]);
    await expect(first).rejects.toThrow('getsockopt failed');
    expect(codes(await second)).toEqual(['ok']);
  });

  it('NLMSG_DONE with a matching sequence does not settle a pipelined request', async () => {
    const kernel = new FakeKernel(([r], k) => {
      if (!r) return;
      k.push(done(r), ack(r));
    });
    const [outcome] = await new NetlinkConnection(kernel).execute([req(1)]);
    expect(ok(outcome).map((m) => m.header.type)).toEqual([NLMSG_DONE]);
  });
});

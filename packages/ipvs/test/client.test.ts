import { describe, expect, it } from '@jest/globals';
import {
  AttributeDecoder,
  AttributeEncoder,
  CTRL_ATTR_FAMILY_ID,
  CTRL_ATTR_FAMILY_NAME,
  CTRL_ATTR_MAXATTR,
  CTRL_ATTR_VERSION,
  CTRL_CMD_GETFAMILY,
  decodeGeneric,
  decodeMessages,
  encodeGeneric,
  encodeMessage,
  Errno,
  GENL_ID_CTRL,
  NetlinkError,
  NLM_F_DUMP,
  NLM_F_MULTI,
  type NetlinkErrorCode,
  type NetlinkMessage,
  type NetlinkRequest,
  type RequestOutcome,
  type Transport,
} from '@balanced/netlink';
import * as C from '../src/codec/constants.js';
import { encodeDestination, encodeService, encodeServiceKey } from '../src/codec/encode.js';
import { IpvsClient } from '../src/client.js';
import {
  AlreadyExists,
  DestinationNotFound,
  InvalidArgument,
  IpvsError,
  IpvsUnavailable,
  OutcomeUnknown,
  PermissionDenied,
  SchedulerMissing,
  ServiceNotFound,
} from '../src/errors.js';
import type { DestinationSpec, IpvsOperation, ServiceKey, ServiceSpec } from '../src/model.js';

const FAMILY_ID = 0x25;
const SVC: ServiceKey = { protocol: 'tcp', address: '10.0.0.1', port: 80 };
const SPEC: ServiceSpec = { key: SVC, scheduler: 'mh' };
const dest = (last: number, weight = 1): DestinationSpec => ({ address: `10.0.1.${last}`, port: 8080, forwarding: 'direct', weight });

/** A reply message as the kernel would send it, parsed. */
function message(type: number, command: number, attributes: Uint8Array, flags = 0): NetlinkMessage {
  const [m] = decodeMessages(encodeMessage({ type, flags, sequence: 1, portId: 4242 }, encodeGeneric({ command, version: 1 }, attributes)));
  if (!m) throw new Error('no message');
  return m;
}

/** nlctrl's CTRL_CMD_NEWFAMILY answer for IPVS. */
const FAMILY_REPLY = message(
  GENL_ID_CTRL,
  1, // CTRL_CMD_NEWFAMILY
  new AttributeEncoder()
    .u16(CTRL_ATTR_FAMILY_ID, FAMILY_ID)
    .string(CTRL_ATTR_FAMILY_NAME, 'IPVS')
    .u32(CTRL_ATTR_VERSION, 1)
    .u32(CTRL_ATTR_MAXATTR, 17)
    .encode(),
);

const fail = (errno: number, code: NetlinkErrorCode = 'NETLINK_KERNEL_ERROR', message?: string): RequestOutcome => ({
  ok: false,
  error: new NetlinkError({ code, op: 'x', errno, ...(message !== undefined ? { extAck: { message } } : {}) }),
});
const OK: RequestOutcome = { ok: true, messages: [] };

interface Decoded {
  readonly request: NetlinkRequest;
  readonly command: number;
}

/**
 * A function-style Transport: nlctrl GETFAMILY is answered with FAMILY_REPLY (or `family`),
 * every IPVS request by `answer`. Records every execute() call.
 */
function fakeTransport(answer: (r: Decoded) => RequestOutcome, family: RequestOutcome = { ok: true, messages: [FAMILY_REPLY] }) {
  const calls: NetlinkRequest[][] = [];
  let closed = false;
  const transport: Transport = {
    async execute(requests) {
      calls.push([...requests]);
      return requests.map((request) => {
        const { header } = decodeGeneric(request.data);
        if (request.type === GENL_ID_CTRL) return family;
        expect(request.type).toBe(FAMILY_ID);
        expect(header.version).toBe(C.IPVS_GENL_VERSION);
        return answer({ request, command: header.command });
      });
    },
    close() {
      closed = true;
    },
  };
  return { transport, calls, isClosed: () => closed };
}

/** The IPVS calls (after the family lookup). */
const ipvsCalls = (calls: NetlinkRequest[][]) => calls.filter((c) => c[0]?.type !== GENL_ID_CTRL);
const commandOf = (r: NetlinkRequest): number => decodeGeneric(r.data).header.command;
const attributesOf = (r: NetlinkRequest): Uint8Array => Uint8Array.from(decodeGeneric(r.data).attributes);

describe('IpvsClient.over', () => {
  it('resolves the IPVS family through nlctrl GETFAMILY', async () => {
    const { transport, calls } = fakeTransport(() => OK);
    const client = await IpvsClient.over(transport);
    expect(client.family).toMatchObject({ id: FAMILY_ID, name: 'IPVS', version: 1, maxAttribute: 17 });
    const [lookup] = calls[0] ?? [];
    expect(lookup?.type).toBe(GENL_ID_CTRL);
    expect(commandOf(lookup as NetlinkRequest)).toBe(CTRL_CMD_GETFAMILY);
    const d = new AttributeDecoder(attributesOf(lookup as NetlinkRequest));
    expect(d.next()).toBe(true);
    expect([d.type(), d.string()]).toEqual([CTRL_ATTR_FAMILY_NAME, 'IPVS']);
  });

  it('throws IpvsUnavailable when nlctrl answers ENOENT', async () => {
    const { transport } = fakeTransport(() => OK, fail(Errno.ENOENT));
    const error = await IpvsClient.over(transport).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IpvsUnavailable);
    expect((error as IpvsUnavailable).code).toBe('IPVS_UNAVAILABLE');
    expect((error as IpvsUnavailable).errno).toBe(Errno.ENOENT);
    expect((error as IpvsUnavailable).message).toMatch(/no IPVS generic netlink family/);
    expect((error as Error).cause).toBeInstanceOf(NetlinkError);
  });

  it('passes other nlctrl failures through as NetlinkError', async () => {
    const { transport } = fakeTransport(() => OK, fail(Errno.EPERM));
    await expect(IpvsClient.over(transport)).rejects.toMatchObject({ name: 'NetlinkError', errno: Errno.EPERM });
  });

  it('close() closes the transport', async () => {
    const { transport, isClosed } = fakeTransport(() => OK);
    (await IpvsClient.over(transport)).close();
    expect(isClosed()).toBe(true);
  });
});

describe('IpvsClient.apply', () => {
  const operations: IpvsOperation[] = [
    { op: 'add-service', service: SPEC },
    { op: 'add-destination', service: SVC, destination: dest(1) },
    { op: 'add-destination', service: SVC, destination: dest(2) },
    { op: 'update-destination', service: SVC, destination: dest(2, 5) },
    { op: 'update-service', service: { ...SPEC, scheduler: 'rr' } },
    { op: 'delete-destination', service: SVC, destination: { address: '10.0.1.1', port: 8080 } },
    { op: 'delete-service', service: SVC },
  ];

  it('sends N requests in one execute(), in order, with the right commands and attributes', async () => {
    const { transport, calls } = fakeTransport(() => OK);
    const client = await IpvsClient.over(transport);
    const results = await client.apply(operations);
    expect(results).toEqual(operations.map(() => ({ ok: true })));
    const ipvs = ipvsCalls(calls);
    expect(ipvs).toHaveLength(1);
    const sent = ipvs[0] ?? [];
    expect(sent.map(commandOf)).toEqual([
      C.IPVS_CMD_NEW_SERVICE,
      C.IPVS_CMD_NEW_DEST,
      C.IPVS_CMD_NEW_DEST,
      C.IPVS_CMD_SET_DEST,
      C.IPVS_CMD_SET_SERVICE,
      C.IPVS_CMD_DEL_DEST,
      C.IPVS_CMD_DEL_SERVICE,
    ]);
    expect(sent.map((r) => r.op)).toEqual([
      'IPVS NEW_SERVICE tcp/10.0.0.1:80',
      'IPVS NEW_DEST tcp/10.0.0.1:80 -> 10.0.1.1:8080',
      'IPVS NEW_DEST tcp/10.0.0.1:80 -> 10.0.1.2:8080',
      'IPVS SET_DEST tcp/10.0.0.1:80 -> 10.0.1.2:8080',
      'IPVS SET_SERVICE tcp/10.0.0.1:80',
      'IPVS DEL_DEST tcp/10.0.0.1:80 -> 10.0.1.1:8080',
      'IPVS DEL_SERVICE tcp/10.0.0.1:80',
    ]);
    // None is a dump; the payloads are the codec's.
    expect(sent.every((r) => ((r.flags ?? 0) & NLM_F_DUMP) === 0)).toBe(true);
    expect(attributesOf(sent[0] as NetlinkRequest)).toEqual(encodeService(SPEC));
    expect(attributesOf(sent[3] as NetlinkRequest)).toEqual(encodeDestination(SVC, dest(2, 5)));
    expect(attributesOf(sent[6] as NetlinkRequest)).toEqual(encodeServiceKey(SVC));
  });

  it('maps per-operation failures to typed errors without stopping the others', async () => {
    const answers: RequestOutcome[] = [
      fail(Errno.ENOENT, 'NETLINK_KERNEL_ERROR', 'Scheduler not found'), // NEW_SERVICE → SchedulerMissing
      OK,
      fail(Errno.EEXIST), //                                             NEW_DEST → AlreadyExists
      fail(Errno.ENOENT), //                                             SET_DEST → DestinationNotFound
      fail(Errno.EPERM), //                                              SET_SERVICE → PermissionDenied
      fail(Errno.ENOBUFS, 'NETLINK_OUTCOME_UNKNOWN'), //                 DEL_DEST → OutcomeUnknown
      fail(Errno.ESRCH), //                                              DEL_SERVICE → ServiceNotFound
    ];
    let i = 0;
    const { transport } = fakeTransport(() => answers[i++] as RequestOutcome);
    const client = await IpvsClient.over(transport);
    const results = await client.apply(operations);
    const errors = results.map((r) => (r.ok ? undefined : r.error));
    expect(results.map((r) => r.ok)).toEqual([false, true, false, false, false, false, false]);
    expect(errors[0]).toBeInstanceOf(SchedulerMissing);
    expect(errors[0]?.kernelMessage).toBe('Scheduler not found');
    expect(errors[0]?.op).toBe('IPVS NEW_SERVICE tcp/10.0.0.1:80');
    expect(errors[2]).toBeInstanceOf(AlreadyExists);
    expect(errors[3]).toBeInstanceOf(DestinationNotFound);
    expect(errors[4]).toBeInstanceOf(PermissionDenied);
    expect(errors[5]).toBeInstanceOf(OutcomeUnknown);
    expect(errors[6]).toBeInstanceOf(ServiceNotFound);
    expect(errors[6]?.op).toBe('IPVS DEL_SERVICE tcp/10.0.0.1:80');
  });

  it('the single-operation verbs throw the typed error', async () => {
    const { transport, calls } = fakeTransport(({ command }) => (command === C.IPVS_CMD_DEL_DEST ? fail(Errno.ENOENT) : OK));
    const client = await IpvsClient.over(transport);
    await expect(client.addService(SPEC)).resolves.toBeUndefined();
    await expect(client.addDestination(SVC, dest(1))).resolves.toBeUndefined();
    await expect(client.deleteDestination(SVC, { address: '10.0.1.9', port: 8080 })).rejects.toBeInstanceOf(DestinationNotFound);
    expect(ipvsCalls(calls).map((c) => c.map(commandOf))).toEqual([[C.IPVS_CMD_NEW_SERVICE], [C.IPVS_CMD_NEW_DEST], [C.IPVS_CMD_DEL_DEST]]);
  });

  it('an empty apply sends an empty batch and returns no results', async () => {
    const { transport } = fakeTransport(() => OK);
    expect(await (await IpvsClient.over(transport)).apply([])).toEqual([]);
  });
});

describe('IpvsClient reads', () => {
  /** Kernel-order dump of destinations: deliberately not sorted by address or weight. */
  const KERNEL_ORDER = [dest(3, 30), dest(1, 10), dest(2, 20)];
  // encodeDestination writes the 48-byte SERVICE nest first; a dump reply carries only the DEST nest.
  const destReply = (d: DestinationSpec) => message(FAMILY_ID, C.IPVS_CMD_NEW_DEST, encodeDestination(SVC, d).subarray(48), NLM_F_MULTI);

  it('listDestinations sends a GET_DEST dump for the service and decodes in kernel order', async () => {
    const { transport, calls } = fakeTransport(({ command }) =>
      command === C.IPVS_CMD_GET_DEST ? { ok: true, messages: KERNEL_ORDER.map(destReply) } : fail(Errno.EINVAL),
    );
    const client = await IpvsClient.over(transport);
    const list = await client.listDestinations(SVC);
    expect(list.map((d) => [d.address, d.weight])).toEqual([
      ['10.0.1.3', 30],
      ['10.0.1.1', 10],
      ['10.0.1.2', 20],
    ]);
    expect(list.every((d) => d.family === 'inet' && d.forwarding === 'direct' && d.port === 8080)).toBe(true);
    const [r] = ipvsCalls(calls)[0] ?? [];
    expect(commandOf(r as NetlinkRequest)).toBe(C.IPVS_CMD_GET_DEST);
    expect(((r as NetlinkRequest).flags ?? 0) & NLM_F_DUMP).toBe(NLM_F_DUMP);
    expect(attributesOf(r as NetlinkRequest)).toEqual(encodeServiceKey(SVC));
  });

  it('listServices + dump() pair each service with its destinations', async () => {
    const other: ServiceKey = { fwmark: 9, family: 'inet6' };
    const serviceReply = (spec: ServiceSpec) => message(FAMILY_ID, C.IPVS_CMD_NEW_SERVICE, encodeService(spec), NLM_F_MULTI);
    const { transport, calls } = fakeTransport(({ request, command }) => {
      if (command === C.IPVS_CMD_GET_SERVICE) return { ok: true, messages: [serviceReply(SPEC), serviceReply({ key: other, scheduler: 'rr' })] };
      if (command === C.IPVS_CMD_GET_DEST) {
        const isFirst = attributesOf(request).length === encodeServiceKey(SVC).length;
        return { ok: true, messages: isFirst ? KERNEL_ORDER.map(destReply) : [] };
      }
      return fail(Errno.EINVAL);
    });
    const client = await IpvsClient.over(transport);
    const table = await client.dump();
    expect(table.map((t) => t.service.key)).toEqual([SVC, other]);
    expect(table.map((t) => t.destinations.map((d) => d.address))).toEqual([['10.0.1.3', '10.0.1.1', '10.0.1.2'], []]);
    // One dump of services, then one execute() carrying both GET_DEST dumps.
    expect(ipvsCalls(calls).map((c) => c.map(commandOf))).toEqual([[C.IPVS_CMD_GET_SERVICE], [C.IPVS_CMD_GET_DEST, C.IPVS_CMD_GET_DEST]]);
  });

  it('getService: ESRCH → ServiceNotFound; an ack without a reply → IpvsError', async () => {
    let answer: RequestOutcome = fail(Errno.ESRCH, 'NETLINK_KERNEL_ERROR', 'Service not found');
    const { transport } = fakeTransport(() => answer);
    const client = await IpvsClient.over(transport);
    const error = await client.getService(SVC).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceNotFound);
    expect((error as ServiceNotFound).kernelMessage).toBe('Service not found');
    expect((error as Error).message).toContain('kernel says: Service not found');
    answer = OK;
    const empty = await client.getService(SVC).catch((e: unknown) => e);
    expect(empty).toBeInstanceOf(IpvsError);
    expect((empty as Error).message).toMatch(/acknowledged but sent no reply/);
  });

  it('info() decodes GET_INFO', async () => {
    const infoReply = message(FAMILY_ID, C.IPVS_CMD_SET_INFO, new AttributeEncoder().u32(C.IPVS_INFO_ATTR_VERSION, 0x010203).u32(C.IPVS_INFO_ATTR_CONN_TAB_SIZE, 4096).encode());
    const { transport } = fakeTransport(({ command }) => (command === C.IPVS_CMD_GET_INFO ? { ok: true, messages: [infoReply] } : fail(Errno.EINVAL)));
    const client = await IpvsClient.over(transport);
    expect(await client.info()).toEqual({ version: '1.2.3', versionCode: 0x010203, connectionTableSize: 4096 });
  });
});

describe('IpvsClient.apply with bad input', () => {
  it('fails only the invalid operations, with InvalidArgument, and sends the rest in order', async () => {
    const { transport, calls } = fakeTransport(() => OK);
    const client = await IpvsClient.over(transport);
    const results = await client.apply([
      { op: 'add-service', service: SPEC },
      { op: 'add-destination', service: SVC, destination: { ...dest(2), address: '10.0.0' } },
      { op: 'add-destination', service: SVC, destination: { ...dest(3), port: 70000 } },
      { op: 'delete-service', service: { fwmark: 0, family: 'inet' } },
      { op: 'add-destination', service: SVC, destination: dest(4) },
    ]);
    expect(results.map((r) => r.ok)).toEqual([true, false, false, false, true]);
    for (const r of results.filter((x) => !x.ok)) {
      expect(r.ok === false && r.error).toBeInstanceOf(InvalidArgument);
    }
    const failed = results[1];
    expect(failed?.ok === false && failed.error.message).toContain('10.0.0');
    const sent = ipvsCalls(calls).flat();
    expect(sent.map(commandOf)).toEqual([C.IPVS_CMD_NEW_SERVICE, C.IPVS_CMD_NEW_DEST]);
  });
});

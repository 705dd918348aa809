import {
  Errno,
  genericRequest,
  NETLINK_GENERIC,
  NetlinkConnection,
  NetlinkError,
  NetlinkSocket,
  NLM_F_DUMP,
  resolveFamily,
  type GenericFamily,
  type NetlinkMessage,
  type NetlinkRequest,
  type RequestOutcome,
  type Transport,
} from '@balanced/netlink';
import * as C from './codec/constants.js';
import { decodeDestination, decodeInfo, decodeService, decodeTimeouts } from './codec/decode.js';
import { encodeDestination, encodeDestinationKey, encodeService, encodeServiceKey, encodeTimeouts, keyFamily } from './codec/encode.js';
import { InvalidArgument, IpvsError, IpvsUnavailable, ServiceNotFound, toIpvsError, type CommandKind } from './errors.js';
import {
  destinationKeyString,
  serviceKeyString,
  type Destination,
  type DestinationKey,
  type DestinationSpec,
  type Info,
  type IpvsOperation,
  type Service,
  type ServiceKey,
  type ServiceSpec,
  type Timeouts,
} from './model.js';

export interface IpvsClientOptions {
  /** Network namespace to program (path such as /run/netns/NAME); default: this process's. */
  readonly netns?: string;
  readonly timeoutMs?: number;
}

export type OperationResult = { readonly ok: true } | { readonly ok: false; readonly error: IpvsError };

export interface ServiceWithDestinations {
  readonly service: Service;
  /** In the kernel's list order (the order `mh` builds its table from). */
  readonly destinations: readonly Destination[];
}

interface Command {
  readonly request: NetlinkRequest;
  readonly kind: CommandKind;
}

const REPLY_BYTES = 16384;

/**
 * IPVS over generic netlink. Every verb builds a Command and goes through `run`, which maps
 * kernel errors to typed errors (ServiceNotFound, DestinationNotFound, SchedulerMissing,
 * AlreadyExists, PermissionDenied, ...). `apply` pipelines many changes per sendmsg.
 */
export class IpvsClient {
  private constructor(
    private readonly transport: Transport,
    readonly family: GenericFamily,
  ) {}

  static async open(options: IpvsClientOptions = {}): Promise<IpvsClient> {
    const socket = NetlinkSocket.open(NETLINK_GENERIC, options.netns !== undefined ? { netns: options.netns } : {});
    const connection = new NetlinkConnection(socket, options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {});
    try {
      return await IpvsClient.over(connection);
    } catch (e) {
      connection.close();
      throw e;
    }
  }

  /** Use an existing transport (a connection, or a test double); resolves the family. */
  static async over(transport: Transport): Promise<IpvsClient> {
    try {
      return new IpvsClient(transport, await resolveFamily(transport, C.IPVS_GENL_NAME));
    } catch (e) {
      if (e instanceof NetlinkError && e.errno === Errno.ENOENT) {
        throw new IpvsUnavailable('resolve IPVS family', 'the kernel has no IPVS generic netlink family (modprobe ip_vs?)', e);
      }
      throw e;
    }
  }

  close(): void {
    this.transport.close();
  }

  async info(): Promise<Info> {
    const [m] = await this.run(this.command(C.IPVS_CMD_GET_INFO, new Uint8Array(0), 'other', 'GET_INFO', { replyBytes: REPLY_BYTES }));
    return decodeInfo(required(m, 'GET_INFO'));
  }

  async getTimeouts(): Promise<Timeouts> {
    const [m] = await this.run(this.command(C.IPVS_CMD_GET_CONFIG, new Uint8Array(0), 'other', 'GET_CONFIG', { replyBytes: REPLY_BYTES }));
    return decodeTimeouts(required(m, 'GET_CONFIG'));
  }

  /** Set connection timeouts in seconds; 0 leaves one unchanged. */
  async setTimeouts(timeouts: Timeouts): Promise<void> {
    await this.run(this.command(C.IPVS_CMD_SET_CONFIG, encodeTimeouts(timeouts), 'other', 'SET_CONFIG'));
  }

  async listServices(): Promise<Service[]> {
    const messages = await this.run(this.command(C.IPVS_CMD_GET_SERVICE, new Uint8Array(0), 'other', 'GET_SERVICE dump', { flags: NLM_F_DUMP }));
    return messages.map(decodeService);
  }

  /** The service, or ServiceNotFound. */
  async getService(key: ServiceKey): Promise<Service> {
    const [m] = await this.run(this.command(C.IPVS_CMD_GET_SERVICE, encodeServiceKey(key), 'other', `GET_SERVICE ${serviceKeyString(key)}`, { replyBytes: REPLY_BYTES }));
    return decodeService(required(m, 'GET_SERVICE'));
  }

  /** Destinations in the kernel's list order. A missing service yields [] (the kernel's answer). */
  async listDestinations(key: ServiceKey): Promise<Destination[]> {
    const family = keyFamily(key);
    const messages = await this.run(this.command(C.IPVS_CMD_GET_DEST, encodeServiceKey(key), 'other', `GET_DEST dump ${serviceKeyString(key)}`, { flags: NLM_F_DUMP }));
    return messages.map((m) => decodeDestination(m, family));
  }

  /** Every service with its destinations: the kernel's whole table. */
  async dump(): Promise<ServiceWithDestinations[]> {
    const services = await this.listServices();
    const dumps = await this.transport.execute(
      services.map((s) => this.command(C.IPVS_CMD_GET_DEST, encodeServiceKey(s.key), 'other', `GET_DEST dump ${serviceKeyString(s.key)}`, { flags: NLM_F_DUMP }).request),
    );
    return services.map((service, i) => {
      const outcome = dumps[i] as RequestOutcome;
      if (!outcome.ok) throw toIpvsError(`GET_DEST dump ${serviceKeyString(service.key)}`, 'other', outcome.error);
      return { service, destinations: outcome.messages.map((m) => decodeDestination(m, service.family)) };
    });
  }

  /**
   * Some services with their destinations, in one pipelined batch (a GET_SERVICE and a GET_DEST
   * dump each). Services the kernel does not have are left out of the result.
   */
  async readServices(keys: readonly ServiceKey[]): Promise<ServiceWithDestinations[]> {
    if (keys.length === 0) return [];
    const gets = keys.map((k) => this.command(C.IPVS_CMD_GET_SERVICE, encodeServiceKey(k), 'other', `GET_SERVICE ${serviceKeyString(k)}`, { replyBytes: REPLY_BYTES }));
    const dests = keys.map((k) => this.command(C.IPVS_CMD_GET_DEST, encodeServiceKey(k), 'other', `GET_DEST dump ${serviceKeyString(k)}`, { flags: NLM_F_DUMP }));
    const outcomes = await this.transport.execute([...gets, ...dests].map((c) => c.request));
    const out: ServiceWithDestinations[] = [];
    keys.forEach((key, i) => {
      const got = outcomes[i];
      const listed = outcomes[keys.length + i];
      const getOp = `IPVS GET_SERVICE ${serviceKeyString(key)}`;
      if (!got || !listed) throw new IpvsError(getOp, 'no outcome');
      if (!got.ok) {
        const error = toIpvsError(getOp, 'other', got.error);
        if (error instanceof ServiceNotFound) return;
        throw error;
      }
      if (!listed.ok) throw toIpvsError(`IPVS GET_DEST dump ${serviceKeyString(key)}`, 'other', listed.error);
      const service = decodeService(required(got.messages[0], 'GET_SERVICE'));
      out.push({ service, destinations: listed.messages.map((m) => decodeDestination(m, service.family)) });
    });
    return out;
  }

  async addService(spec: ServiceSpec): Promise<void> {
    await this.one({ op: 'add-service', service: spec });
  }

  async updateService(spec: ServiceSpec): Promise<void> {
    await this.one({ op: 'update-service', service: spec });
  }

  async deleteService(key: ServiceKey): Promise<void> {
    await this.one({ op: 'delete-service', service: key });
  }

  async addDestination(service: ServiceKey, destination: DestinationSpec): Promise<void> {
    await this.one({ op: 'add-destination', service, destination });
  }

  async updateDestination(service: ServiceKey, destination: DestinationSpec): Promise<void> {
    await this.one({ op: 'update-destination', service, destination });
  }

  async deleteDestination(service: ServiceKey, destination: DestinationKey): Promise<void> {
    await this.one({ op: 'delete-destination', service, destination });
  }

  /** Zero the counters of one service, or of all services when no key is given. */
  async zero(key?: ServiceKey): Promise<void> {
    const attrs = key ? encodeServiceKey(key) : new Uint8Array(0);
    await this.run(this.command(C.IPVS_CMD_ZERO, attrs, 'other', key ? `ZERO ${serviceKeyString(key)}` : 'ZERO all'));
  }

  /** Remove every service. Controllers never call this; tests and tools do. */
  async flush(): Promise<void> {
    await this.run(this.command(C.IPVS_CMD_FLUSH, new Uint8Array(0), 'other', 'FLUSH'));
  }

  /**
   * Apply many changes in order, pipelined (many requests per sendmsg, windowed to the
   * receive buffer). One result per operation; a failure does not stop later ones, except
   * that after a receive-buffer overflow the rest report OutcomeUnknown.
   */
  async apply(operations: readonly IpvsOperation[]): Promise<OperationResult[]> {
    // Bad input (an unparsable address, a port out of range) fails that operation alone,
    // before anything is sent; the rest go to the kernel.
    const prepared = operations.map((o): Command | InvalidArgument => {
      try {
        return this.operationCommand(o);
      } catch (e) {
        return new InvalidArgument(`IPVS ${o.op}`, e instanceof Error ? e.message : String(e));
      }
    });
    const commands = prepared.filter((p): p is Command => !(p instanceof InvalidArgument));
    const outcomes = await this.transport.execute(commands.map((c) => c.request));
    let next = 0;
    return prepared.map((p): OperationResult => {
      if (p instanceof InvalidArgument) return { ok: false, error: p };
      const outcome = outcomes[next++] as RequestOutcome;
      if (outcome.ok) return { ok: true };
      return { ok: false, error: toIpvsError(p.request.op ?? 'IPVS', p.kind, outcome.error) };
    });
  }

  private async one(operation: IpvsOperation): Promise<void> {
    const [result] = await this.apply([operation]);
    if (result && !result.ok) throw result.error;
  }

  private operationCommand(o: IpvsOperation): Command {
    switch (o.op) {
      case 'add-service':
        return this.command(C.IPVS_CMD_NEW_SERVICE, encodeService(o.service), 'service', `NEW_SERVICE ${serviceKeyString(o.service.key)}`);
      case 'update-service':
        return this.command(C.IPVS_CMD_SET_SERVICE, encodeService(o.service), 'service', `SET_SERVICE ${serviceKeyString(o.service.key)}`);
      case 'delete-service':
        return this.command(C.IPVS_CMD_DEL_SERVICE, encodeServiceKey(o.service), 'other', `DEL_SERVICE ${serviceKeyString(o.service)}`);
      case 'add-destination':
        return this.command(C.IPVS_CMD_NEW_DEST, encodeDestination(o.service, o.destination), 'destination', `NEW_DEST ${serviceKeyString(o.service)} -> ${destinationKeyString(o.destination)}`);
      case 'update-destination':
        return this.command(C.IPVS_CMD_SET_DEST, encodeDestination(o.service, o.destination), 'destination', `SET_DEST ${serviceKeyString(o.service)} -> ${destinationKeyString(o.destination)}`);
      case 'delete-destination':
        return this.command(C.IPVS_CMD_DEL_DEST, encodeDestinationKey(o.service, o.destination), 'destination', `DEL_DEST ${serviceKeyString(o.service)} -> ${destinationKeyString(o.destination)}`);
    }
  }

  private command(cmd: number, attributes: Uint8Array, kind: CommandKind, op: string, options: { flags?: number; replyBytes?: number } = {}): Command {
    return { kind, request: genericRequest(this.family.id, cmd, C.IPVS_GENL_VERSION, attributes, { ...options, op: `IPVS ${op}` }) };
  }

  private async run(command: Command): Promise<readonly NetlinkMessage[]> {
    const [outcome] = await this.transport.execute([command.request]);
    if (!outcome) throw new IpvsError(command.request.op ?? 'IPVS', 'no outcome');
    if (!outcome.ok) throw toIpvsError(command.request.op ?? 'IPVS', command.kind, outcome.error);
    return outcome.messages;
  }
}

function required(m: NetlinkMessage | undefined, op: string): NetlinkMessage {
  if (!m) throw new IpvsError(`IPVS ${op}`, 'the kernel acknowledged but sent no reply message');
  return m;
}

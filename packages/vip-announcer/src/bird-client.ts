// A client of BIRD's control socket (the protocol birdc speaks). One connection, opened on
// first use and again after it breaks; commands are serialised (BIRD answers one at a time,
// in order); every command has a timeout, after which the connection is dropped so a late
// reply can never be taken for the next command's.
import { connect, type Socket } from 'node:net';
import { BirdError, isBirdError } from './bird-errors.js';
import { BirdReplyReader, REPLY_CODES, isErrorCode, replyText, type BirdReply } from './bird-reply.js';
import { isSafeBirdString } from './bird-syntax.js';

export interface BirdClientOptions {
  /** Path of BIRD's control socket (`bird -s`). */
  readonly socketPath: string;
  /** Per command, connecting included. Default 10 000 ms. */
  readonly timeoutMs?: number;
  /** Spontaneous messages ("+…" lines, e.g. "Config timeout expired, starting undo"). */
  readonly onSpontaneous?: (text: string) => void;
}

export type ConfigureOutcome =
  /** 0003: the new configuration is in effect. */
  | 'reconfigured'
  /** 0004: accepted; protocols are being restarted as needed. */
  | 'in-progress'
  /** 0005: accepted; applied once the reconfiguration under way ends. */
  | 'queued'
  /** 0017: accepted; replaces the configuration that was queued. */
  | 'unqueued';

const CONFIGURE_OUTCOMES: ReadonlyMap<number, ConfigureOutcome> = new Map([
  [REPLY_CODES.reconfigured, 'reconfigured'],
  [REPLY_CODES.reconfigurationInProgress, 'in-progress'],
  [REPLY_CODES.reconfigurationQueued, 'queued'],
  [REPLY_CODES.reconfigurationUnqueued, 'unqueued'],
]);

export interface BirdStatus {
  /** e.g. "BIRD 2.0.12" */
  readonly version: string;
  readonly routerId: string | undefined;
  /** Text of the final line, e.g. "Daemon is up and running". */
  readonly message: string;
}

export interface BirdProtocolStatus {
  readonly name: string;
  /** "BGP", "Static", "BFD", … */
  readonly protocol: string;
  readonly table: string;
  /** "up", "start", "down", … (BGP: "up" = Established). */
  readonly state: string;
  /** The rest of the line: since + info (e.g. "Established", "Active  Socket: Connection refused"). */
  readonly info: string;
}

interface Pending {
  readonly command: string;
  resolve(reply: BirdReply): void;
  reject(error: BirdError): void;
}

export class BirdClient {
  readonly socketPath: string;
  private readonly timeoutMs: number;
  private socket: Socket | undefined;
  private reader = new BirdReplyReader();
  private pending: Pending | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(private readonly options: BirdClientOptions) {
    this.socketPath = options.socketPath;
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  /**
   * Sends one command and resolves with BIRD's complete reply. Rejects with BirdError:
   * BIRD_REPLY_ERROR for an 8xxx/9xxx reply, BIRD_TIMEOUT, BIRD_CONNECTION, BIRD_PROTOCOL,
   * BIRD_INVALID_COMMAND, BIRD_CLOSED. Calls never overlap: each waits for the one before.
   */
  execute(command: string): Promise<BirdReply> {
    const run = (): Promise<BirdReply> => this.run(command);
    const result = this.tail.then(run, run);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** `configure check ["file"]`: BIRD parses the configuration (and what it includes) without applying it. */
  async configureCheck(file?: string): Promise<BirdReply> {
    const command = `configure check${fileArgument(file)}`;
    const reply = await this.execute(command);
    if (reply.code !== REPLY_CODES.configurationOk) throw unexpected(command, reply, 'expected 0020 Configuration OK');
    return reply;
  }

  /** `configure ["file"]`: BIRD reads the configuration and applies it. */
  async configure(file?: string): Promise<ConfigureOutcome> {
    const command = `configure${fileArgument(file)}`;
    const reply = await this.execute(command);
    const outcome = CONFIGURE_OUTCOMES.get(reply.code);
    if (outcome === undefined) throw unexpected(command, reply, 'expected 0003 Reconfigured (or 0004/0005/0017)');
    return outcome;
  }

  async status(): Promise<BirdStatus> {
    const reply = await this.execute('show status');
    if (reply.code !== REPLY_CODES.statusReport) throw unexpected('show status', reply, 'expected 0013');
    const version = reply.lines.find((l) => l.code === REPLY_CODES.birdVersion)?.text ?? '';
    const routerId = /^Router ID is (\S+)$/.exec(reply.lines.find((l) => l.text.startsWith('Router ID is'))?.text ?? '')?.[1];
    return { version, routerId, message: reply.text };
  }

  async protocols(): Promise<BirdProtocolStatus[]> {
    const reply = await this.execute('show protocols');
    const out: BirdProtocolStatus[] = [];
    for (const line of reply.lines) {
      if (line.code !== REPLY_CODES.protocolList) continue;
      const m = /^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s*(.*)$/.exec(line.text);
      if (m === null) continue;
      out.push({ name: m[1] ?? '', protocol: m[2] ?? '', table: m[3] ?? '', state: m[4] ?? '', info: (m[5] ?? '').trim() });
    }
    return out;
  }

  /** Closes the connection; later calls reject with BIRD_CLOSED. */
  close(): void {
    this.closed = true;
    this.drop(new BirdError('BIRD_CLOSED', 'BIRD client closed'));
  }

  private async run(command: string): Promise<BirdReply> {
    if (this.closed) throw new BirdError('BIRD_CLOSED', 'BIRD client closed', { command });
    if (!isSafeCommand(command)) {
      throw new BirdError('BIRD_INVALID_COMMAND', `refusing to send ${JSON.stringify(command)}: one line of printable text only`, { command });
    }
    const deadline = Date.now() + this.timeoutMs;
    if (this.socket === undefined) await this.open(deadline, command);
    const reply = await this.await(command, deadline, (socket) => socket.write(`${command}\n`));
    if (isErrorCode(reply.code)) {
      throw new BirdError('BIRD_REPLY_ERROR', `BIRD refused "${command}": ${reply.code} ${replyText(reply)}`, { command, replyCode: reply.code, replyText: reply.text });
    }
    return reply;
  }

  private async open(deadline: number, command: string): Promise<void> {
    const socket = connect(this.socketPath);
    socket.setEncoding('utf8');
    this.socket = socket;
    this.reader = new BirdReplyReader();
    socket.on('data', (chunk: string) => this.receive(socket, chunk));
    socket.on('error', (err) => {
      if (this.socket === socket) this.drop(new BirdError('BIRD_CONNECTION', `BIRD control socket ${this.socketPath}: ${err.message}`, { cause: err }));
    });
    socket.on('close', () => {
      if (this.socket === socket) this.drop(new BirdError('BIRD_CONNECTION', `BIRD closed the control connection ${this.socketPath}`));
    });
    const welcome = await this.await(`${command} (greeting)`, deadline, () => undefined);
    if (welcome.code !== REPLY_CODES.welcome) {
      const error = unexpected('(greeting)', welcome, 'expected 0001 BIRD … ready.');
      this.drop(error);
      throw error;
    }
  }

  /** Registers the one pending request, runs `send`, waits for the reply or the deadline. */
  private await(command: string, deadline: number, send: (socket: Socket) => void): Promise<BirdReply> {
    const socket = this.socket;
    if (socket === undefined) return Promise.reject(new BirdError('BIRD_CONNECTION', `not connected to ${this.socketPath}`, { command }));
    return new Promise<BirdReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.drop(new BirdError('BIRD_TIMEOUT', `no reply from BIRD to "${command}" within ${this.timeoutMs} ms`, { command }));
      }, Math.max(0, deadline - Date.now()));
      this.pending = {
        command,
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(isBirdError(e) && e.command === undefined ? new BirdError(e.code, e.message, { command, cause: e.cause }) : e);
        },
      };
      send(socket);
    });
  }

  private receive(socket: Socket, chunk: string): void {
    if (this.socket !== socket) return;
    let messages;
    try {
      messages = this.reader.push(chunk);
    } catch (e) {
      this.drop(isBirdError(e) ? e : new BirdError('BIRD_PROTOCOL', String(e)));
      return;
    }
    for (const m of messages) {
      if (m.kind === 'spontaneous') {
        this.options.onSpontaneous?.(m.text);
        continue;
      }
      const pending = this.pending;
      if (pending === undefined) {
        this.drop(new BirdError('BIRD_PROTOCOL', `a reply nobody asked for: ${m.reply.code} ${m.reply.text}`));
        return;
      }
      this.pending = undefined;
      pending.resolve(m.reply);
    }
  }

  /** Fails the pending request (if any) and forgets the connection. */
  private drop(error: BirdError): void {
    const socket = this.socket;
    this.socket = undefined;
    socket?.destroy();
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(error);
  }
}

function isSafeCommand(command: string): boolean {
  return command.length > 0 && command.length <= 1000 && /^[\x20-\x7e]+$/.test(command);
}

function fileArgument(file: string | undefined): string {
  if (file === undefined) return '';
  if (!isSafeBirdString(file) || file.length === 0) throw new BirdError('BIRD_INVALID_COMMAND', `file name ${JSON.stringify(file)} cannot be quoted for BIRD`);
  return ` "${file}"`;
}

function unexpected(command: string, reply: BirdReply, what: string): BirdError {
  return new BirdError('BIRD_UNEXPECTED_REPLY', `BIRD answered "${command}" with ${reply.code} ${replyText(reply)} (${what})`, {
    command,
    replyCode: reply.code,
    replyText: reply.text,
  });
}

// BIRD's control-socket protocol (what birdc speaks), decoded (pure). Every line ends in \n:
//   "NNNN-text"  a line of a reply with code NNNN; more lines follow
//   " text"      another line with the previous line's code
//   "NNNN text"  the last line of a reply (its code is the reply's outcome)
//   "+text"      a spontaneous message, not part of any reply
// Codes (BIRD doc/reply_codes): 0xxx done, 1xxx table entry, 2xxx table heading, 8xxx
// run-time error, 9xxx parse-time error. The greeting is a reply: "0001 BIRD 2.0.12 ready."
import { BirdError } from './bird-errors.js';

export interface BirdReplyLine {
  readonly code: number;
  readonly text: string;
}

export interface BirdReply {
  /** Code of the last line: the outcome. */
  readonly code: number;
  /** Text of the last line. */
  readonly text: string;
  /** Every line, the last included. */
  readonly lines: readonly BirdReplyLine[];
}

export type BirdMessage = { readonly kind: 'reply'; readonly reply: BirdReply } | { readonly kind: 'spontaneous'; readonly text: string };

export const REPLY_CODES = {
  ok: 0,
  welcome: 1,
  readingConfiguration: 2,
  reconfigured: 3,
  reconfigurationInProgress: 4,
  reconfigurationQueued: 5,
  reconfigurationIgnoredShuttingDown: 6,
  accessRestricted: 16,
  reconfigurationUnqueued: 17,
  reconfigurationConfirmed: 18,
  nothingToDo: 19,
  configurationOk: 20,
  statusReport: 13,
  birdVersion: 1000,
  protocolList: 1002,
  uptime: 1011,
  configurationFileError: 8002,
  parseError: 9001,
} as const;

export function isErrorCode(code: number): boolean {
  return code >= 8000;
}

const CODE_LINE = /^(\d{4})([ -])(.*)$/s;
/** Longest line we buffer without a newline before calling the stream broken. */
const MAX_LINE = 1 << 20;

/** Incremental decoder: push text as it arrives, get whole messages back. */
export class BirdReplyReader {
  private partial = '';
  private lines: BirdReplyLine[] = [];
  private lastCode: number | undefined;

  /** Throws BirdError BIRD_PROTOCOL on a line that is not BIRD's protocol. */
  push(chunk: string): BirdMessage[] {
    const out: BirdMessage[] = [];
    this.partial += chunk;
    let nl: number;
    while ((nl = this.partial.indexOf('\n')) >= 0) {
      const line = this.partial.slice(0, nl);
      this.partial = this.partial.slice(nl + 1);
      const m = this.line(line);
      if (m !== undefined) out.push(m);
    }
    if (this.partial.length > MAX_LINE) throw new BirdError('BIRD_PROTOCOL', `a line longer than ${MAX_LINE} bytes without a newline`);
    return out;
  }

  /** A reply has started and not finished (or a line is half-read). */
  get midReply(): boolean {
    return this.lines.length > 0 || this.partial.length > 0;
  }

  private line(line: string): BirdMessage | undefined {
    if (line.startsWith('+')) return { kind: 'spontaneous', text: line.slice(1) };
    if (line.startsWith(' ')) {
      if (this.lastCode === undefined || this.lines.length === 0) throw new BirdError('BIRD_PROTOCOL', `continuation line outside a reply: ${JSON.stringify(line)}`);
      this.lines.push({ code: this.lastCode, text: line.slice(1) });
      return undefined;
    }
    const m = CODE_LINE.exec(line);
    if (m === null) throw new BirdError('BIRD_PROTOCOL', `not a BIRD reply line: ${JSON.stringify(line.slice(0, 200))}`);
    const code = Number(m[1]);
    const text = m[3] ?? '';
    this.lines.push({ code, text });
    this.lastCode = code;
    if (m[2] === '-') return undefined;
    const reply: BirdReply = { code, text, lines: this.lines };
    this.lines = [];
    this.lastCode = undefined;
    return { kind: 'reply', reply };
  }
}

/** Joins the text of every line (for messages). */
export function replyText(reply: BirdReply): string {
  return reply.lines.map((l) => l.text).join('\n');
}

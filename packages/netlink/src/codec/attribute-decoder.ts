import { align4 } from './align.js';
import { HOST_LITTLE_ENDIAN, view } from './byte-order.js';
import { NLA_F_NESTED, NLA_HDRLEN, NLA_TYPE_MASK } from './constants.js';
import { MalformedMessageError } from './errors.js';

const textDecoder = new TextDecoder('utf-8', { fatal: false });

/**
 * Walks a run of netlink attributes: `while (d.next()) switch (d.type()) { ... }`, then one
 * `d.err()` check. Malformed input (short header, length past the end, wrong payload size
 * for the accessor used) stops the walk and is kept as the first error, never thrown from
 * inside the loop. `base` is the offset of `bytes` within the enclosing message, so errors
 * point at the right byte.
 */
export class AttributeDecoder {
  private offset = 0;
  private current: { type: number; rawType: number; payload: Uint8Array; at: number } | undefined;
  private firstError: MalformedMessageError | undefined;

  constructor(
    private readonly input: Uint8Array,
    private readonly base = 0,
  ) {}

  next(): boolean {
    this.current = undefined;
    if (this.firstError) return false;
    const remaining = this.input.length - this.offset;
    if (remaining === 0) return false;
    if (remaining < NLA_HDRLEN) {
      this.fail(`${remaining} trailing bytes are too short for an attribute header`, this.offset);
      return false;
    }
    const v = view(this.input);
    const length = v.getUint16(this.offset, HOST_LITTLE_ENDIAN);
    const rawType = v.getUint16(this.offset + 2, HOST_LITTLE_ENDIAN);
    if (length < NLA_HDRLEN) {
      this.fail(`attribute length ${length} is below the 4-byte header`, this.offset);
      return false;
    }
    if (length > remaining) {
      this.fail(`attribute type ${rawType & NLA_TYPE_MASK} of length ${length} runs past the end (${remaining} left)`, this.offset);
      return false;
    }
    this.current = {
      type: rawType & NLA_TYPE_MASK,
      rawType,
      payload: this.input.subarray(this.offset + NLA_HDRLEN, this.offset + length),
      at: this.offset,
    };
    // The last attribute may omit its padding.
    this.offset = Math.min(this.input.length, this.offset + align4(length));
    return true;
  }

  /** Attribute type with NLA_F_NESTED / NLA_F_NET_BYTEORDER masked out. */
  type(): number {
    return this.cur().type;
  }

  /** Whether the sender marked this attribute NLA_F_NESTED (IPVS replies do not). */
  markedNested(): boolean {
    return (this.cur().rawType & NLA_F_NESTED) !== 0;
  }

  bytes(): Uint8Array {
    return this.cur().payload;
  }

  u8(): number {
    const p = this.sized(1);
    return p ? (p[0] ?? 0) : 0;
  }

  u16(): number {
    const p = this.sized(2);
    return p ? view(p).getUint16(0, HOST_LITTLE_ENDIAN) : 0;
  }

  be16(): number {
    const p = this.sized(2);
    return p ? view(p).getUint16(0, false) : 0;
  }

  u32(): number {
    const p = this.sized(4);
    return p ? view(p).getUint32(0, HOST_LITTLE_ENDIAN) : 0;
  }

  s32(): number {
    const p = this.sized(4);
    return p ? view(p).getInt32(0, HOST_LITTLE_ENDIAN) : 0;
  }

  be32(): number {
    const p = this.sized(4);
    return p ? view(p).getUint32(0, false) : 0;
  }

  u64(): bigint {
    const p = this.sized(8);
    return p ? view(p).getBigUint64(0, HOST_LITTLE_ENDIAN) : 0n;
  }

  /** A string attribute; stops at the first NUL if there is one. */
  string(): string {
    const p = this.cur().payload;
    const nul = p.indexOf(0);
    return textDecoder.decode(nul === -1 ? p : p.subarray(0, nul));
  }

  /** Decode this attribute's payload as nested attributes; errors propagate to `err()`. */
  nested(decode: (inner: AttributeDecoder) => void): void {
    const c = this.cur();
    const inner = new AttributeDecoder(c.payload, this.base + c.at + NLA_HDRLEN);
    decode(inner);
    const e = inner.err();
    if (e) this.firstError ??= e;
  }

  err(): MalformedMessageError | undefined {
    return this.firstError;
  }

  private cur(): { type: number; rawType: number; payload: Uint8Array; at: number } {
    if (!this.current) throw new Error('AttributeDecoder: no current attribute (call next() first)');
    return this.current;
  }

  private sized(size: number): Uint8Array | undefined {
    const c = this.cur();
    if (c.payload.length !== size) {
      this.fail(`attribute type ${c.type} has ${c.payload.length} payload bytes, expected ${size}`, c.at);
      return undefined;
    }
    return c.payload;
  }

  private fail(what: string, at: number): void {
    this.firstError ??= new MalformedMessageError(what, this.base + at);
  }
}

import { align4 } from './align.js';
import { HOST_LITTLE_ENDIAN, view } from './byte-order.js';
import { NLA_F_NESTED, NLA_HDRLEN } from './constants.js';
import { EncodeError } from './errors.js';

const textEncoder = new TextEncoder();
const MAX_ATTRIBUTE_LENGTH = 0xffff;

/**
 * Builds a run of netlink attributes. Each method appends one attribute; the first invalid
 * value is remembered and reported by `encode()`, so call sites stay linear.
 * Integers are host order unless the method name says big-endian (`be16`, `be32`).
 */
export class AttributeEncoder {
  private readonly parts: Uint8Array[] = [];
  private length = 0;
  private firstError: EncodeError | undefined;

  u8(type: number, value: number): this {
    if (!this.checkInt(type, value, 0xff)) return this;
    return this.put(type, Uint8Array.of(value));
  }

  u16(type: number, value: number): this {
    if (!this.checkInt(type, value, 0xffff)) return this;
    const b = new Uint8Array(2);
    view(b).setUint16(0, value, HOST_LITTLE_ENDIAN);
    return this.put(type, b);
  }

  be16(type: number, value: number): this {
    if (!this.checkInt(type, value, 0xffff)) return this;
    const b = new Uint8Array(2);
    view(b).setUint16(0, value, false);
    return this.put(type, b);
  }

  u32(type: number, value: number): this {
    if (!this.checkInt(type, value, 0xffffffff)) return this;
    const b = new Uint8Array(4);
    view(b).setUint32(0, value, HOST_LITTLE_ENDIAN);
    return this.put(type, b);
  }

  be32(type: number, value: number): this {
    if (!this.checkInt(type, value, 0xffffffff)) return this;
    const b = new Uint8Array(4);
    view(b).setUint32(0, value, false);
    return this.put(type, b);
  }

  u64(type: number, value: bigint): this {
    if (value < 0n || value > 0xffffffffffffffffn) {
      this.fail(type, `${value} is outside u64`);
      return this;
    }
    const b = new Uint8Array(8);
    view(b).setBigUint64(0, value, HOST_LITTLE_ENDIAN);
    return this.put(type, b);
  }

  /** A NUL-terminated string (NLA_NUL_STRING / NLA_STRING both accept it). */
  string(type: number, value: string): this {
    const text = textEncoder.encode(value);
    if (text.includes(0)) {
      this.fail(type, 'string contains NUL');
      return this;
    }
    const b = new Uint8Array(text.length + 1);
    b.set(text);
    return this.put(type, b);
  }

  bytes(type: number, value: Uint8Array): this {
    return this.put(type, value);
  }

  /** An attribute with no payload (NLA_FLAG). */
  flag(type: number): this {
    return this.put(type, new Uint8Array(0));
  }

  /** A nested attribute; NLA_F_NESTED is set, as strict kernel policies require. */
  nested(type: number, build: (inner: AttributeEncoder) => void): this {
    const inner = new AttributeEncoder();
    build(inner);
    if (inner.firstError) {
      this.firstError ??= inner.firstError;
      return this;
    }
    return this.put(type | NLA_F_NESTED, inner.encode());
  }

  /** Bytes of all attributes so far, each padded to 4 bytes. Throws the first error. */
  encode(): Uint8Array {
    if (this.firstError) throw this.firstError;
    const out = new Uint8Array(this.length);
    let offset = 0;
    for (const part of this.parts) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  }

  private put(type: number, payload: Uint8Array): this {
    const length = NLA_HDRLEN + payload.length;
    if (length > MAX_ATTRIBUTE_LENGTH) {
      this.fail(type, `payload of ${payload.length} bytes exceeds the 16-bit length`);
      return this;
    }
    const attr = new Uint8Array(align4(length));
    const v = view(attr);
    v.setUint16(0, length, HOST_LITTLE_ENDIAN);
    v.setUint16(2, type, HOST_LITTLE_ENDIAN);
    attr.set(payload, NLA_HDRLEN);
    this.parts.push(attr);
    this.length += attr.length;
    return this;
  }

  private checkInt(type: number, value: number, max: number): boolean {
    if (!Number.isInteger(value) || value < 0 || value > max) {
      this.fail(type, `${value} is not an integer in 0..${max}`);
      return false;
    }
    return true;
  }

  private fail(type: number, what: string): void {
    this.firstError ??= new EncodeError(type, what);
  }
}

/**
 * Reads what a forward server sends back to a client: HELO, PONG and `{ack: chunk}` messages, one
 * msgpack value at a time from a stream of bytes.
 *
 * Strings are kept as their raw bytes (a Buffer), never decoded: Fluent Bit's in_forward sends its
 * HELO nonce and auth salt as msgpack str of 16 random bytes, which are not UTF-8, and the handshake
 * digests need those exact bytes. str and bin both read as a Buffer; map keys are read as UTF-8 text.
 * Replies are small: anything deeper than MAX_DEPTH, or with more than MAX_ITEMS elements, is refused.
 */

export class ReplyFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReplyFormatError';
  }
}

export type ReplyValue = null | boolean | number | Buffer | ReplyValue[] | ReplyMap;
export type ReplyMap = Map<string, ReplyValue>;

const MAX_DEPTH = 4;
const MAX_ITEMS = 64;
/** Returned internally when the value is cut short: more bytes are needed. */
const INCOMPLETE = Symbol('incomplete');

/**
 * One value from `buf[start, end)`: the value and where it ends, or undefined when the bytes end
 * before the value does. Throws ReplyFormatError for bytes that are not a reply.
 */
export function readReply(buf: Buffer, start: number, end: number = buf.length): { value: ReplyValue; end: number } | undefined {
  const reader = new Reader(buf, start, end);
  const value = reader.value(0);
  if (value === INCOMPLETE) return undefined;
  return { value, end: reader.pos };
}

class Reader {
  constructor(
    private readonly buf: Buffer,
    public pos: number,
    private readonly end: number,
  ) {}

  value(depth: number): ReplyValue | typeof INCOMPLETE {
    if (this.pos >= this.end) return INCOMPLETE;
    const h = this.buf[this.pos++]!;
    if (h <= 0x7f) return h;
    if (h >= 0xe0) return h - 0x100;
    if (h >= 0xa0 && h <= 0xbf) return this.bytes(h & 0x1f);
    if (h >= 0x90 && h <= 0x9f) return this.array(h & 0x0f, depth);
    if (h >= 0x80 && h <= 0x8f) return this.map(h & 0x0f, depth);
    switch (h) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xc4:
      case 0xd9:
        return this.sized(1, (n) => this.bytes(n));
      case 0xc5:
      case 0xda:
        return this.sized(2, (n) => this.bytes(n));
      case 0xc6:
      case 0xdb:
        return this.sized(4, (n) => this.bytes(n));
      case 0xcc:
        return this.number(1, (p) => this.buf[p]!);
      case 0xcd:
        return this.number(2, (p) => this.buf.readUInt16BE(p));
      case 0xce:
        return this.number(4, (p) => this.buf.readUInt32BE(p));
      case 0xcf:
        return this.number(8, (p) => Number(this.buf.readBigUInt64BE(p)));
      case 0xd0:
        return this.number(1, (p) => this.buf.readInt8(p));
      case 0xd1:
        return this.number(2, (p) => this.buf.readInt16BE(p));
      case 0xd2:
        return this.number(4, (p) => this.buf.readInt32BE(p));
      case 0xd3:
        return this.number(8, (p) => Number(this.buf.readBigInt64BE(p)));
      case 0xca:
        return this.number(4, (p) => this.buf.readFloatBE(p));
      case 0xcb:
        return this.number(8, (p) => this.buf.readDoubleBE(p));
      case 0xdc:
        return this.sized(2, (n) => this.array(n, depth));
      case 0xdd:
        return this.sized(4, (n) => this.array(n, depth));
      case 0xde:
        return this.sized(2, (n) => this.map(n, depth));
      case 0xdf:
        return this.sized(4, (n) => this.map(n, depth));
      default:
        // ext types and the reserved 0xc1: no reply carries them.
        throw new ReplyFormatError(`unexpected msgpack type 0x${h.toString(16)} in a reply`);
    }
  }

  private sized<T>(width: 1 | 2 | 4, then: (n: number) => T | typeof INCOMPLETE): T | typeof INCOMPLETE {
    if (this.pos + width > this.end) return INCOMPLETE;
    const p = this.pos;
    const n = width === 1 ? this.buf[p]! : width === 2 ? this.buf.readUInt16BE(p) : this.buf.readUInt32BE(p);
    this.pos += width;
    return then(n);
  }

  private number(width: number, read: (p: number) => number): number | typeof INCOMPLETE {
    if (this.pos + width > this.end) return INCOMPLETE;
    const v = read(this.pos);
    this.pos += width;
    return v;
  }

  private bytes(n: number): Buffer | typeof INCOMPLETE {
    if (this.pos + n > this.end) return INCOMPLETE;
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  private array(n: number, depth: number): ReplyValue[] | typeof INCOMPLETE {
    this.check(n, depth);
    const out: ReplyValue[] = [];
    for (let i = 0; i < n; i++) {
      const v = this.value(depth + 1);
      if (v === INCOMPLETE) return INCOMPLETE;
      out.push(v);
    }
    return out;
  }

  private map(n: number, depth: number): ReplyMap | typeof INCOMPLETE {
    this.check(n, depth);
    const out: ReplyMap = new Map();
    for (let i = 0; i < n; i++) {
      const k = this.value(depth + 1);
      if (k === INCOMPLETE) return INCOMPLETE;
      const v = this.value(depth + 1);
      if (v === INCOMPLETE) return INCOMPLETE;
      if (Buffer.isBuffer(k)) out.set(k.toString('utf8'), v);
    }
    return out;
  }

  private check(n: number, depth: number): void {
    if (depth >= MAX_DEPTH) throw new ReplyFormatError(`a reply nested deeper than ${MAX_DEPTH}`);
    if (n > MAX_ITEMS) throw new ReplyFormatError(`a reply with ${n} elements (at most ${MAX_ITEMS})`);
  }
}

/** The bytes of a str or bin reply value as text, for messages and logs. */
export function replyText(value: ReplyValue | undefined): string | undefined {
  return Buffer.isBuffer(value) ? value.toString('utf8') : undefined;
}

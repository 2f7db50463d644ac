/**
 * Encodes a batch as Loki's `PushRequest` (proto/push.proto). The HTTP body is this, compressed with
 * snappy's block format (see snappy-compressor.ts); over gRPC it is the message as it is.
 */
import { NS_PER_SECOND } from '../../core/event.js';

export interface LokiEntry {
  /** Nanoseconds since the epoch, kept exact end to end. */
  readonly ts: bigint;
  readonly line: string;
  /**
   * The line's UTF-8 length when the output already counted it (it must be exact: the encoder sizes
   * the message by it); otherwise the encoder counts it.
   */
  readonly lineBytes?: number | undefined;
  /** Loki 3 structured metadata: never stream labels. */
  readonly sm?: Readonly<Record<string, string>> | undefined;
  /**
   * Where the line's UTF-8 bytes are (an ArenaLine's: `lineBytes` of them from `start`); the encoder
   * copies them instead of writing `line`.
   */
  readonly chunk?: Uint8Array | undefined;
  readonly start?: number | undefined;
}

/**
 * An entry whose line the output wrote as UTF-8 into a LineArena (labels/line-arena.ts) as it
 * formatted it: no string is kept per entry. `line` decodes the bytes, for the rare paths that want
 * the text (JSON bodies, log samples); it is the text the bytes were written from.
 */
export class ArenaLine implements LokiEntry {
  constructor(
    readonly ts: bigint,
    readonly chunk: Uint8Array,
    readonly start: number,
    readonly lineBytes: number,
    readonly sm: Readonly<Record<string, string>> | undefined,
  ) {}

  get line(): string {
    return Buffer.from(this.chunk.buffer, this.chunk.byteOffset + this.start, this.lineBytes).toString('utf8');
  }
}

/**
 * The times Loki can hold: it keeps an entry's time as int64 nanoseconds (Go's time.UnixNano), from
 * 1677-09-21 to 2262-04-11. A time outside cannot be stored, and one past protobuf's Timestamp range
 * (years 1 to 9999), or whose seconds do not fit an int64 varint, makes Loki refuse the whole request.
 */
export const MIN_TIMESTAMP_NS = -(2n ** 63n);
export const MAX_TIMESTAMP_NS = 2n ** 63n - 1n;

export function timestampInRange(ns: bigint): boolean {
  return ns >= MIN_TIMESTAMP_NS && ns <= MAX_TIMESTAMP_NS;
}

/**
 * `ns` moved into Loki's range. The output drops entries outside it before they are batched (see
 * limits.ts); the encoders clamp as well, so that no entry, whatever its origin (an old disk buffer
 * segment), can make them write a message Loki cannot decode: Loki then refuses that entry alone.
 */
export function clampTimestampNs(ns: bigint): bigint {
  return ns > MAX_TIMESTAMP_NS ? MAX_TIMESTAMP_NS : ns < MIN_TIMESTAMP_NS ? MIN_TIMESTAMP_NS : ns;
}

export interface Timestamp {
  seconds: number;
  nanos: number;
}

/** Exact split of a bigint ns timestamp; nanos is always in [0, 1e9) as protobuf's Timestamp wants. */
export function toTimestamp(ns: bigint): Timestamp {
  let seconds = ns / NS_PER_SECOND;
  let nanos = ns % NS_PER_SECOND;
  if (nanos < 0n) {
    seconds -= 1n;
    nanos += NS_PER_SECOND;
  }
  // Seconds since the epoch fit a double exactly for the next 285 million years.
  return { seconds: Number(seconds), nanos: Number(nanos) };
}

function byTime(a: LokiEntry, b: LokiEntry): number {
  return a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0;
}

/** Sort in place by time, stable (equal timestamps keep arrival order); skips the sort when sorted. */
export function sortByTime(entries: LokiEntry[]): void {
  for (let i = 1; i < entries.length; i++) {
    if (entries[i - 1]!.ts > entries[i]!.ts) {
      entries.sort(byTime);
      return;
    }
  }
}

/**
 * Writes `logproto.PushRequest` (proto/push.proto) straight into one exactly sized buffer: a first
 * pass measures every message, the second writes it. Per entry that is two varints, the timestamp
 * and the line's bytes, with no object built; protobufjs (which builds an object per entry and
 * timestamp) took about a fifth of the main thread in the forward benchmark. The tests decode the
 * bytes with their own copy of the schema.
 *
 *   PushRequest    { repeated StreamAdapter streams = 1; }
 *   StreamAdapter  { string labels = 1; repeated EntryAdapter entries = 2; }
 *   EntryAdapter   { Timestamp timestamp = 1; string line = 2; repeated LabelPairAdapter structuredMetadata = 3; }
 *   Timestamp      { int64 seconds = 1; int32 nanos = 2; }
 *   LabelPairAdapter { string name = 1; string value = 2; }
 */
export class PushRequestEncoder {
  /** Per entry, from the measuring pass: the line's UTF-8 length, then the timestamp's. */
  private lineBytes = new Int32Array(1024);
  private seconds = new Float64Array(1024);
  private nanos = new Int32Array(1024);
  /** Per entry, from the measuring pass: its message's size, and the index of its arena chunk (-1: a string line). */
  private entrySizes = new Int32Array(1024);
  private chunkOf = new Int32Array(1024);
  /** The distinct arena chunks of the batch being encoded, and the byte range of each its entries use. */
  private readonly chunks: Uint8Array[] = [];
  private readonly chunkLo: number[] = [];
  private readonly chunkHi: number[] = [];

  /** The message and its arena lines' chunk ranges are written here first (see encode); kept while small. */
  private scratch: Buffer | undefined;

  private scratchFor(size: number): Buffer {
    const scratch = this.scratch;
    if (scratch !== undefined && scratch.length >= size) return scratch;
    // Rounded up so that batches a little bigger than the last do not each make a new one.
    const made = Buffer.allocUnsafeSlow(Math.ceil(size / SCRATCH_ROUND_BYTES) * SCRATCH_ROUND_BYTES);
    this.scratch = made.length <= SCRATCH_KEEP_BYTES ? made : undefined;
    return made;
  }

  /** Protobuf bytes of a PushRequest; each stream's entries are sorted by time first (in place). */
  encode(streams: ReadonlyMap<string, LokiEntry[]>, allocate: (size: number) => Buffer = allocUnsafe): Buffer {
    let count = 0;
    for (const entries of streams.values()) count += entries.length;
    if (this.lineBytes.length < count) {
      const n = Math.max(count, 2 * this.lineBytes.length);
      this.lineBytes = new Int32Array(n);
      this.seconds = new Float64Array(n);
      this.nanos = new Int32Array(n);
      this.entrySizes = new Int32Array(n);
      this.chunkOf = new Int32Array(n);
    }
    const lineBytes = this.lineBytes;
    const seconds = this.seconds;
    const nanos = this.nanos;
    const entrySizes = this.entrySizes;
    const chunkOf = this.chunkOf;
    const chunks = this.chunks;
    const chunkLo = this.chunkLo;
    const chunkHi = this.chunkHi;
    chunks.length = 0;
    chunkLo.length = 0;
    chunkHi.length = 0;
    let lastChunk: Uint8Array | undefined;
    let ci = -1;
    let arenaLines = 0;

    // Pass 1: sizes (streams' in order, entries' per entry), and the arena chunks the lines are in.
    const streamSizes: number[] = [];
    let total = 0;
    let k = 0;
    for (const [labels, entries] of streams) {
      sortByTime(entries);
      let size = fieldBytes(Buffer.byteLength(labels));
      for (let i = 0; i < entries.length; i++, k++) {
        const e = entries[i]!;
        splitTime(e.ts);
        seconds[k] = splitSeconds;
        nanos[k] = splitNanos;
        const lb = e.lineBytes ?? Buffer.byteLength(e.line);
        lineBytes[k] = lb;
        const es = entrySize(splitSeconds, splitNanos, lb, e.sm);
        entrySizes[k] = es;
        size += fieldBytes(es);
        const chunk = e.chunk;
        if (chunk !== undefined && lb > 0) {
          const start = e.start!;
          const end = start + lb;
          if (chunk !== lastChunk) {
            lastChunk = chunk;
            // A batch's lines are in a few chunks (16-20 in W2), met in runs: a short search, no map.
            ci = chunks.length > MAX_REGION_CHUNKS ? MAX_REGION_CHUNKS : chunks.lastIndexOf(chunk);
            if (ci < 0) {
              ci = chunks.length;
              chunks.push(chunk);
              chunkLo.push(start);
              chunkHi.push(end);
            }
          }
          if (start < chunkLo[ci]!) chunkLo[ci] = start;
          if (end > chunkHi[ci]!) chunkHi[ci] = end;
          chunkOf[k] = ci;
          arenaLines++;
        } else chunkOf[k] = -1;
      }
      streamSizes.push(size);
      total += fieldBytes(size);
    }

    // Arena lines are copied from a copy of their chunks' used ranges placed after the message in one
    // plain scratch buffer, with copyWithin, and the message then goes into `allocate`'s buffer in one
    // copy: a typed-array view per line (what set, Buffer.copy and subarray all make) cost ~300-450 ns,
    // most of the encoder's time in W2 (issue #12). Not in the compressor's slot itself: copyWithin in
    // shared memory is ~7x slower than in a plain buffer. Worth it when chunks hold two lines or more
    // on average, and only while the ranges' bytes (which may hold other batches' lines) stay within
    // about the message's own size.
    let extra = 0;
    for (let c = 0; c < chunks.length; c++) extra += chunkHi[c]! - chunkLo[c]!;
    const viaRegion = arenaLines > 0 && chunks.length <= MAX_REGION_CHUNKS && arenaLines >= 2 * chunks.length && extra <= total + REGION_SLACK_BYTES;
    const buf = viaRegion ? this.scratchFor(total + extra) : allocate(total);
    // Where line bytes at `start` of chunk c are in `buf`: regionAt[c] + start.
    const regionAt = viaRegion ? new Array<number>(chunks.length) : undefined;
    if (regionAt !== undefined) {
      let r = total;
      for (let c = 0; c < chunks.length; c++) {
        const chunk = chunks[c]!;
        const lo = chunkLo[c]!;
        const n = chunkHi[c]! - lo;
        buf.set(lo === 0 && n === chunk.length ? chunk : new Uint8Array(chunk.buffer, chunk.byteOffset + lo, n), r);
        regionAt[c] = r - lo;
        r += n;
      }
    }
    chunks.length = 0;
    chunkLo.length = 0;
    chunkHi.length = 0;

    // Pass 2: bytes.
    const out = buf;
    let o = 0;
    let s = 0;
    k = 0;
    for (const [labels, entries] of streams) {
      out[o++] = 0x0a; // PushRequest.streams
      o = writeVarint(out, o, streamSizes[s++]!);
      out[o++] = 0x0a; // StreamAdapter.labels
      o = writeString(out, o, labels, Buffer.byteLength(labels));
      for (let i = 0; i < entries.length; i++, k++) {
        const e = entries[i]!;
        const sec = seconds[k]!;
        const ns = nanos[k]!;
        const lb = lineBytes[k]!;
        out[o++] = 0x12; // StreamAdapter.entries
        o = writeVarint(out, o, entrySizes[k]!);
        out[o++] = 0x0a; // EntryAdapter.timestamp
        o = writeVarint(out, o, timestampSize(sec, ns));
        if (sec !== 0) {
          out[o++] = 0x08; // Timestamp.seconds
          o = writeInt64(out, o, sec);
        }
        if (ns !== 0) {
          out[o++] = 0x10; // Timestamp.nanos
          o = writeVarint(out, o, ns);
        }
        if (lb > 0) {
          out[o++] = 0x12; // EntryAdapter.line
          const c = chunkOf[k]!;
          if (c >= 0) {
            o = writeVarint(out, o, lb);
            const start = e.start!;
            if (regionAt !== undefined) {
              const from = regionAt[c]! + start;
              out.copyWithin(o, from, from + lb);
            } else {
              const chunk = e.chunk!;
              out.set(lb === chunk.length ? chunk : new Uint8Array(chunk.buffer, chunk.byteOffset + start, lb), o);
            }
            o += lb;
          } else o = writeString(out, o, e.line, lb);
        }
        const sm = e.sm;
        if (sm !== undefined) {
          for (const name in sm) {
            const value = sm[name]!;
            const nb = Buffer.byteLength(name);
            const vb = Buffer.byteLength(value);
            out[o++] = 0x1a; // EntryAdapter.structuredMetadata
            o = writeVarint(out, o, pairSize(nb, vb));
            if (nb > 0) {
              out[o++] = 0x0a; // LabelPairAdapter.name
              o = writeString(out, o, name, nb);
            }
            if (vb > 0) {
              out[o++] = 0x12; // LabelPairAdapter.value
              o = writeString(out, o, value, vb);
            }
          }
        }
      }
    }
    if (o !== total) throw new Error(`PushRequest encoding wrote ${o} bytes, measured ${total}`);
    if (!viaRegion) return out;
    const body = allocate(total);
    // The body is usually a view of the compressor's shared slot: TypedArray set (and Buffer copy)
    // into shared memory goes byte-safe, at about half the speed of fill with a buffer of the same
    // length, which is one memcpy (98 against 43 µs per MiB here).
    body.fill(total === out.length ? out : out.subarray(0, total), 0, total);
    return body;
  }
}

const allocUnsafe = (size: number): Buffer => Buffer.allocUnsafe(size);

/** Bytes of chunk ranges allowed beyond the message's size (one chunk's worth) before lines are copied one view each. */
const REGION_SLACK_BYTES = 64 * 1024;
/** Past this many chunks in a batch, lines are copied one view each (and chunks no longer searched). */
const MAX_REGION_CHUNKS = 256;
/** The scratch buffer is kept between batches up to this size (a batch of ~1 MiB and its chunks' ~1.3 MiB in W2). */
const SCRATCH_KEEP_BYTES = 4 * 1024 * 1024;
const SCRATCH_ROUND_BYTES = 256 * 1024;

let splitSeconds = 0;
let splitNanos = 0;

/** toTimestamp of the clamped time, without the object: sets splitSeconds and splitNanos. */
function splitTime(ns: bigint): void {
  if (ns > MAX_TIMESTAMP_NS || ns < MIN_TIMESTAMP_NS) ns = clampTimestampNs(ns);
  // Entries of a batch mostly share their second: one subtraction instead of a division then.
  const rest = ns - lastSecondNs;
  if (rest >= 0n && rest < NS_PER_SECOND) {
    splitSeconds = lastSecond;
    splitNanos = Number(rest);
    return;
  }
  let sec = ns / NS_PER_SECOND;
  let nanos = ns - sec * NS_PER_SECOND;
  if (nanos < 0n) {
    sec -= 1n;
    nanos += NS_PER_SECOND;
  }
  lastSecondNs = ns - nanos;
  lastSecond = Number(sec);
  splitSeconds = lastSecond;
  splitNanos = Number(nanos);
}

let lastSecond = 0;
let lastSecondNs = 0n;

function varintSize(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/** Size of an int64 varint: a negative value takes ten bytes (two's complement). */
function int64Size(v: number): number {
  return v < 0 ? 10 : varintSize(v);
}

/** A length-delimited field's size: tag (one byte for fields < 16), length, payload. */
function fieldBytes(payload: number): number {
  return 1 + varintSize(payload) + payload;
}

function timestampSize(sec: number, ns: number): number {
  return (sec !== 0 ? 1 + int64Size(sec) : 0) + (ns !== 0 ? 1 + varintSize(ns) : 0);
}

function pairSize(nameBytes: number, valueBytes: number): number {
  return (nameBytes > 0 ? fieldBytes(nameBytes) : 0) + (valueBytes > 0 ? fieldBytes(valueBytes) : 0);
}

function entrySize(sec: number, ns: number, lineBytes: number, sm: Readonly<Record<string, string>> | undefined): number {
  let size = fieldBytes(timestampSize(sec, ns)) + (lineBytes > 0 ? fieldBytes(lineBytes) : 0);
  if (sm !== undefined) for (const name in sm) size += fieldBytes(pairSize(Buffer.byteLength(name), Buffer.byteLength(sm[name]!)));
  return size;
}

/** Unsigned varint of a non-negative integer up to 2^53. */
function writeVarint(out: Buffer, o: number, v: number): number {
  while (v >= 128) {
    out[o++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 128);
  }
  out[o++] = v;
  return o;
}

function writeInt64(out: Buffer, o: number, v: number): number {
  if (v >= 0) return writeVarint(out, o, v);
  let u = BigInt.asUintN(64, BigInt(v));
  for (let i = 0; i < 9; i++) {
    out[o++] = Number(u & 0x7fn) | 0x80;
    u >>= 7n;
  }
  out[o++] = Number(u);
  return o;
}

function writeString(out: Buffer, o: number, s: string, bytes: number): number {
  o = writeVarint(out, o, bytes);
  // As many UTF-8 bytes as UTF-16 units: every unit is ASCII, whose latin1 bytes are its UTF-8 ones,
  // and V8 copies a one-byte string's latin1 bytes about twice as fast as it encodes UTF-8.
  return o + out.write(s, o, bytes, bytes === s.length ? 'latin1' : 'utf8');
}

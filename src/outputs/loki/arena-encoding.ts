/**
 * Entries written as bytes (an arena) instead of held as line strings, and the PushRequest made of
 * them on a worker thread (see push-worker.ts): the main thread writes each entry's parts, the thread
 * prints the Loki line (escapes the strings as JSON.stringify does), frames the protobuf and
 * compresses it. W2 (issue #12) spent about a third of its main thread printing lines, flattening them
 * and framing them into the body; the second core was mostly idle.
 *
 * An entry in the arena (little-endian):
 *
 *   u32 stream (index into the batch's label strings) · f64 seconds · u32 nanoseconds (the time, split
 *     as protobuf's Timestamp, on the main thread where it is a bigint already)
 *   segments, each a type byte: 0 u32 id (a text from the batch's dictionary: `{"stream":`, a shared
 *     map's `,"kubernetes":{…}}`), 1 u32 n + n bytes (a string's UTF-8, printed as a JSON string),
 *     2 u32 n + n bytes (UTF-8 text printed as it is: a number's JSON, a whole line), 255 (the end);
 *     the encoder marks a string that needs escapes 3 (1 is then one copied as it is)
 *   u16 pairs of structured metadata, each u32 n + n bytes name, u32 n + n bytes value
 *
 * The line is the segments' texts in order. ARENA_ENCODER_SOURCE is plain JavaScript, evaluated in the
 * thread and, where the thread cannot run, on this one (the same code either way).
 */
import { runInThisContext } from 'node:vm';

export const SEG_DICT = 0;
export const SEG_STRING = 1;
export const SEG_RAW = 2;
export const SEG_END = 255;

/**
 * `encodeArena(bytes, length, dict, labels)`: the PushRequest (protobuf bytes) of the arena's entries,
 * grouped by stream in the order streams first appear, each stream's entries sorted by time (stable),
 * as PushRequestEncoder (encoder.ts) writes a batch of LokiEntry.
 */
export const ARENA_ENCODER_SOURCE = String.raw`
(function () {
  // JSON.stringify's escapes for bytes below 0x20, '"' and '\'; EXTRA: the bytes each adds.
  const ESC = [];
  for (let c = 0; c < 256; c++) ESC.push(null);
  for (let c = 0; c < 0x20; c++) ESC[c] = Buffer.from('\\u00' + c.toString(16).padStart(2, '0'), 'latin1');
  ESC[0x08] = Buffer.from('\\b', 'latin1');
  ESC[0x09] = Buffer.from('\\t', 'latin1');
  ESC[0x0a] = Buffer.from('\\n', 'latin1');
  ESC[0x0c] = Buffer.from('\\f', 'latin1');
  ESC[0x0d] = Buffer.from('\\r', 'latin1');
  ESC[0x22] = Buffer.from('\\"', 'latin1');
  ESC[0x5c] = Buffer.from('\\\\', 'latin1');
  const EXTRA = new Uint8Array(256);
  for (let c = 0; c < 256; c++) EXTRA[c] = ESC[c] === null ? 0 : ESC[c].length - 1;

  function escapedLength(b, s, e) {
    let n = e - s + 2;
    for (let i = s; i < e; i++) n += EXTRA[b[i]];
    return n;
  }
  function copy(out, o, b, s, e) {
    if (e - s < 64) { for (let i = s; i < e; i++) out[o++] = b[i]; return o; }
    b.copy(out, o, s, e);
    return o + e - s;
  }
  function writeEscaped(out, o, b, s, e, plain) {
    out[o++] = 0x22;
    if (plain) o = copy(out, o, b, s, e);
    else {
      let run = s;
      for (let i = s; i < e; i++) {
        if (EXTRA[b[i]] === 0) continue;
        if (i > run) o = copy(out, o, b, run, i);
        const esc = ESC[b[i]];
        for (let k = 0; k < esc.length; k++) out[o++] = esc[k];
        run = i + 1;
      }
      if (e > run) o = copy(out, o, b, run, e);
    }
    out[o++] = 0x22;
    return o;
  }
  function varintSize(v) { let n = 1; while (v >= 128) { v = Math.floor(v / 128); n++; } return n; }
  function fieldBytes(p) { return 1 + varintSize(p) + p; }
  function writeVarint(out, o, v) { while (v >= 128) { out[o++] = (v & 0x7f) | 0x80; v = Math.floor(v / 128); } out[o++] = v; return o; }
  function writeInt64(out, o, v) {
    if (v >= 0) return writeVarint(out, o, v);
    let u = BigInt.asUintN(64, BigInt(v));
    for (let i = 0; i < 9; i++) { out[o++] = Number(u & 0x7fn) | 0x80; u >>= 7n; }
    out[o++] = Number(u);
    return o;
  }
  function timestampSize(sec, ns) { return (sec !== 0 ? 1 + (sec < 0 ? 10 : varintSize(sec)) : 0) + (ns !== 0 ? 1 + varintSize(ns) : 0); }

  let scratch;
  return function encodeArena(bytes, length, dict, labels, reuse) {
    const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const dictBytes = dict.map((t) => Buffer.from(t, 'utf8'));
    // Pass 1: each entry's place, stream, time, line and metadata sizes.
    let cap = 1024;
    let start = new Int32Array(cap), stream = new Int32Array(cap), lineLen = new Int32Array(cap), smLen = new Int32Array(cap);
    let secs = new Float64Array(cap), nanos = new Int32Array(cap);
    let n = 0;
    let o = 0;
    while (o < length) {
      if (n === cap) {
        cap *= 2;
        const grow = (a, T) => { const x = new T(cap); x.set(a); return x; };
        start = grow(start, Int32Array); stream = grow(stream, Int32Array); lineLen = grow(lineLen, Int32Array); smLen = grow(smLen, Int32Array);
        secs = grow(secs, Float64Array); nanos = grow(nanos, Int32Array);
      }
      start[n] = o;
      stream[n] = dv.getUint32(o, true);
      secs[n] = dv.getFloat64(o + 4, true);
      nanos[n] = dv.getUint32(o + 12, true);
      o += 16;
      let len = 0;
      for (;;) {
        const type = b[o++];
        if (type === 255) break;
        const v = dv.getUint32(o, true);
        o += 4;
        if (type === 0) len += dictBytes[v].length;
        else if (type === 1 || type === 3) { const el = escapedLength(b, o, o + v); if (el !== v + 2) b[o - 5] = 3; len += el; o += v; }
        else { len += v; o += v; }
      }
      lineLen[n] = len;
      const pairs = dv.getUint16(o, true);
      o += 2;
      let sm = 0;
      for (let p = 0; p < pairs; p++) {
        const nb = dv.getUint32(o, true); o += 4 + nb;
        const vb = dv.getUint32(o, true); o += 4 + vb;
        sm += fieldBytes((nb > 0 ? fieldBytes(nb) : 0) + (vb > 0 ? fieldBytes(vb) : 0));
      }
      smLen[n] = sm;
      n++;
    }
    // Entries by stream, each stream's sorted by time (stable).
    const byStream = labels.map(() => []);
    for (let i = 0; i < n; i++) byStream[stream[i]].push(i);
    const before = (x, y) => secs[x] < secs[y] || (secs[x] === secs[y] && nanos[x] < nanos[y]);
    const entrySize = (i) => fieldBytes(timestampSize(secs[i], nanos[i])) + (lineLen[i] > 0 ? fieldBytes(lineLen[i]) : 0) + smLen[i];
    const labelBytes = labels.map((l) => Buffer.from(l, 'utf8'));
    const streamSizes = [];
    let total = 0;
    for (let s = 0; s < labels.length; s++) {
      const list = byStream[s];
      if (list.length === 0) { streamSizes.push(-1); continue; }
      for (let k = 1; k < list.length; k++) {
        if (before(list[k], list[k - 1])) { list.sort((x, y) => (before(x, y) ? -1 : before(y, x) ? 1 : x - y)); break; }
      }
      let size = fieldBytes(labelBytes[s].length);
      for (const i of list) size += fieldBytes(entrySize(i));
      streamSizes.push(size);
      total += fieldBytes(size);
    }
    // Pass 2: bytes.
    // On the thread the body is compressed before the next job: one buffer serves every job there.
    let out;
    if (reuse) {
      if (scratch === undefined || scratch.length < total) scratch = Buffer.allocUnsafeSlow(Math.ceil(total * 1.25));
      out = scratch.subarray(0, total);
    } else out = Buffer.allocUnsafe(total);
    let w = 0;
    for (let s = 0; s < labels.length; s++) {
      if (streamSizes[s] < 0) continue;
      out[w++] = 0x0a;
      w = writeVarint(out, w, streamSizes[s]);
      out[w++] = 0x0a;
      w = writeVarint(out, w, labelBytes[s].length);
      labelBytes[s].copy(out, w);
      w += labelBytes[s].length;
      for (const i of byStream[s]) {
        const sec = secs[i], ns = nanos[i];
        out[w++] = 0x12;
        w = writeVarint(out, w, entrySize(i));
        out[w++] = 0x0a;
        w = writeVarint(out, w, timestampSize(sec, ns));
        if (sec !== 0) { out[w++] = 0x08; w = writeInt64(out, w, sec); }
        if (ns !== 0) { out[w++] = 0x10; w = writeVarint(out, w, ns); }
        let r = start[i] + 16;
        if (lineLen[i] > 0) {
          out[w++] = 0x12;
          w = writeVarint(out, w, lineLen[i]);
        }
        for (;;) {
          const type = b[r++];
          if (type === 255) break;
          const v = dv.getUint32(r, true);
          r += 4;
          if (type === 0) { const d = dictBytes[v]; w = copy(out, w, d, 0, d.length); }
          else if (type === 1 || type === 3) { w = writeEscaped(out, w, b, r, r + v, type === 1); r += v; }
          else { w = copy(out, w, b, r, r + v); r += v; }
        }
        const pairs = dv.getUint16(r, true);
        r += 2;
        for (let p = 0; p < pairs; p++) {
          const nb = dv.getUint32(r, true);
          const nameAt = r + 4;
          r = nameAt + nb;
          const vb = dv.getUint32(r, true);
          const valueAt = r + 4;
          r = valueAt + vb;
          out[w++] = 0x1a;
          w = writeVarint(out, w, (nb > 0 ? fieldBytes(nb) : 0) + (vb > 0 ? fieldBytes(vb) : 0));
          if (nb > 0) { out[w++] = 0x0a; w = writeVarint(out, w, nb); b.copy(out, w, nameAt, nameAt + nb); w += nb; }
          if (vb > 0) { out[w++] = 0x12; w = writeVarint(out, w, vb); b.copy(out, w, valueAt, valueAt + vb); w += vb; }
        }
      }
    }
    if (w !== total) throw new Error('PushRequest encoding wrote ' + w + ' bytes, measured ' + total);
    return out;
  };
})()
`;

export type EncodeArena = (bytes: Uint8Array, length: number, dict: readonly string[], labels: readonly string[], reuse: boolean) => Buffer;

let inline: EncodeArena | undefined;

/**
 * The encoder on this thread (a small batch, the thread busy or gone). `reuse`: the body is written
 * into one buffer kept for the next call, for a caller that is done with it before then (compressed
 * at once): one buffer instead of one per batch left to the GC.
 */
export function encodeArenaInline(bytes: Uint8Array, length: number, dict: readonly string[], labels: readonly string[], reuse = false): Buffer {
  // Buffer is a global in the thread; here the function is made in this context too.
  inline ??= runInThisContext(ARENA_ENCODER_SOURCE) as EncodeArena;
  return inline(bytes, length, dict, labels, reuse);
}

/**
 * The JSON text of maps and arrays the transcoder printed lately, by their msgpack bytes: records of
 * one source repeat whole subtrees (an exporter's event carries the same `managedFields` entry, the
 * same `fieldsV1` map, the same `source` in record after record), and copying a known text costs a
 * fraction of printing it value by value, a byte compare and one copy.
 *
 * A subtree's text depends on its bytes alone (the same bytes always print the same text, or are
 * always declined), except for the nesting limit: an entry is used only at the depth it was printed
 * at or shallower. The transcoder never asks for a subtree that holds a field to capture.
 *
 * Direct-mapped, by a hash of a subtree's first 16 bytes. A slot whose subtree is seen again is kept;
 * one that keeps missing (a map whose bytes differ in every record) is taken over by another subtree,
 * and the more often a slot's entries went unused, the more misses it waits for before copying a new
 * one in: bytes that never repeat cost a lookup, not a copy, per record.
 */

/** Slots (a power of 2). */
const SLOTS = 64;
const SLOT_SHIFT = 32 - Math.log2(SLOTS);
/** Subtrees shorter than this are printed as they come (a lookup would cost what it saves); the hash reads this many bytes. */
export const SUBTREE_MIN_BYTES = 16;
/** Nor are longer ones kept: bounds the memory, 64 × (1 KiB + its text). */
const MAX_BYTES = 1024;
const FIRST_WAIT = 4;
const MAX_WAIT = 256;

export class SubtreeCache {
  /** Each entry's bytes as the values of little-endian 32-bit words, as the compare reads the source (the last 1-3 bytes zero-padded). */
  private readonly words: (Int32Array | undefined)[] = new Array<Int32Array | undefined>(SLOTS).fill(undefined);
  private readonly lengths = new Int32Array(SLOTS);
  private readonly texts: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(SLOTS).fill(undefined);
  /** The depth each entry's subtree was printed at (it holds no nesting too deep there). */
  private readonly depths = new Int32Array(SLOTS);
  private readonly highs = new Uint8Array(SLOTS);
  private readonly used = new Uint8Array(SLOTS);
  private readonly misses = new Int32Array(SLOTS);
  /** Misses a slot waits for before another subtree replaces its entry. */
  private readonly wait = new Int32Array(SLOTS).fill(FIRST_WAIT);
  /** Set by a hit: the length of the subtree's bytes, and 1 if its text is not all ASCII. */
  inputLength = 0;
  high = 0;

  /** The slot of the subtree at `p` (SUBTREE_MIN_BYTES must be there). */
  slotOf(sv: DataView, p: number): number {
    let h = Math.imul(sv.getInt32(p, true), 0x9e3779b1);
    h = Math.imul(h ^ sv.getInt32(p + 4, true), 0x85ebca77);
    h = Math.imul(h ^ sv.getInt32(p + 8, true), 0xc2b2ae3d);
    h = Math.imul(h ^ sv.getInt32(p + 12, true), 0x27d4eb2f);
    return (h ^ (h >>> 15)) >>> SLOT_SHIFT;
  }

  /** The text of the subtree at `src[p]` if `slot` holds its bytes, printed at `depth` or deeper. */
  lookup(slot: number, src: Buffer, sv: DataView, p: number, end: number, depth: number): Uint8Array | undefined {
    const words = this.words[slot];
    if (words === undefined) return undefined;
    const length = this.lengths[slot]!;
    if (p + length > end || depth > this.depths[slot]! || !sameBytes(words, sv, p, length)) {
      this.misses[slot]!++;
      return undefined;
    }
    this.misses[slot] = 0;
    this.used[slot] = 1;
    this.inputLength = length;
    this.high = this.highs[slot]!;
    return this.texts[slot];
  }

  /** Whether the subtree just looked up in `slot` should be stored there when it closes. */
  admit(slot: number): boolean {
    return this.words[slot] === undefined || this.misses[slot]! >= this.wait[slot]!;
  }

  /** Keeps `src[start, end)`, printed at `depth` as `out[textStart, textEnd)`, in `slot`. */
  store(slot: number, src: Buffer, start: number, end: number, out: Buffer, textStart: number, textEnd: number, depth: number): void {
    const length = end - start;
    if (length < SUBTREE_MIN_BYTES || length > MAX_BYTES) return;
    if (this.words[slot] !== undefined) this.wait[slot] = this.used[slot] === 1 ? FIRST_WAIT : Math.min(2 * this.wait[slot]!, MAX_WAIT);
    const words = new Int32Array((length + 3) >> 2);
    for (let i = 0; i < length; i += 4) words[i >> 2] = sv32(src, start + i, end);
    const text = new Uint8Array(textEnd - textStart);
    text.set(out.subarray(textStart, textEnd));
    let high = 0;
    for (let i = 0; i < text.length; i++) high |= text[i]!;
    this.words[slot] = words;
    this.lengths[slot] = length;
    this.texts[slot] = text;
    this.depths[slot] = depth;
    this.highs[slot] = high >> 7;
    this.used[slot] = 0;
    this.misses[slot] = 0;
  }
}

/** The little-endian word at `src[p]`, bytes at or past `end` read as 0. */
function sv32(src: Buffer, p: number, end: number): number {
  let w = 0;
  for (let i = 3; i >= 0; i--) w = (w << 8) | (p + i < end ? src[p + i]! : 0);
  return w;
}

/** Whether `sv[p, p + length)` holds the bytes of `words` (length ≥ 4): four at a time, the last four over the previous ones. */
function sameBytes(words: Int32Array, sv: DataView, p: number, length: number): boolean {
  const whole = length >> 2;
  for (let k = 0; k < whole; k++) if (sv.getInt32(p + 4 * k, true) !== words[k]) return false;
  const rest = length & 3;
  if (rest === 0) return true;
  // The last 1-3 bytes, the padding's zeros masked out of the source's word.
  return (sv.getInt32(p + length - 4, true) >>> (8 * (4 - rest))) === words[whole]! >>> 0;
}

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
  private readonly bytes: (DataView | undefined)[] = new Array<DataView | undefined>(SLOTS).fill(undefined);
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
    const bytes = this.bytes[slot];
    if (bytes === undefined) return undefined;
    const length = bytes.byteLength;
    if (p + length > end || depth > this.depths[slot]! || !sameBytes(bytes, sv, p, length)) {
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
    return this.bytes[slot] === undefined || this.misses[slot]! >= this.wait[slot]!;
  }

  /** Keeps `src[start, end)`, printed at `depth` as `out[textStart, textEnd)`, in `slot`. */
  store(slot: number, src: Buffer, start: number, end: number, out: Buffer, textStart: number, textEnd: number, depth: number): void {
    const length = end - start;
    if (length < SUBTREE_MIN_BYTES || length > MAX_BYTES) return;
    if (this.bytes[slot] !== undefined) this.wait[slot] = this.used[slot] === 1 ? FIRST_WAIT : Math.min(2 * this.wait[slot]!, MAX_WAIT);
    const bytes = new Uint8Array(length);
    bytes.set(src.subarray(start, end));
    const text = new Uint8Array(textEnd - textStart);
    text.set(out.subarray(textStart, textEnd));
    let high = 0;
    for (let i = 0; i < text.length; i++) high |= text[i]!;
    this.bytes[slot] = new DataView(bytes.buffer);
    this.texts[slot] = text;
    this.depths[slot] = depth;
    this.highs[slot] = high >> 7;
    this.used[slot] = 0;
    this.misses[slot] = 0;
  }
}

/** Whether `sv[p, p + length)` holds the bytes of `bytes` (length ≥ 4): four at a time, the last four over the previous ones. */
function sameBytes(bytes: DataView, sv: DataView, p: number, length: number): boolean {
  let i = 0;
  for (; i + 4 <= length; i += 4) if (sv.getInt32(p + i, true) !== bytes.getInt32(i, true)) return false;
  return i === length || sv.getInt32(p + length - 4, true) === bytes.getInt32(length - 4, true);
}

/**
 * One batch's entries written as bytes (arena-encoding.ts has the layout), for the thread that prints
 * and encodes them: the main thread keeps no line string per entry, only these bytes.
 */
import { SEG_DICT, SEG_END, SEG_RAW, SEG_STRING } from './arena-encoding.js';
import { splitNanos, splitSeconds, splitTime } from './encoder.js';

const HEADER_BYTES = 16;
/** An arena's first size: a default batch (batch_size 1M) and its headers fit. */
const SLOT_BYTES = 2 * 1024 * 1024;
/** Free slots kept for the next batches; more are let go (the GC frees them). */
const MAX_FREE_SLOTS = 4;

/**
 * Arenas are written into shared memory the thread reads in place (no copy, no transfer), reused from
 * batch to batch: allocating a fresh buffer per batch on one thread and freeing it on another left
 * the allocator holding ~200 MiB more RSS in W2.
 */
const freeSlots: SharedArrayBuffer[] = [];

function takeSlot(min: number): SharedArrayBuffer {
  for (let i = freeSlots.length - 1; i >= 0; i--) {
    if (freeSlots[i]!.byteLength >= min) return freeSlots.splice(i, 1)[0]!;
  }
  let size = SLOT_BYTES;
  while (size < min) size *= 2;
  return new SharedArrayBuffer(size);
}

function giveSlot(slot: SharedArrayBuffer): void {
  if (slot.byteLength !== SLOT_BYTES) return;
  if (freeSlots.length < MAX_FREE_SLOTS) freeSlots.push(slot);
}

type WellFormed = { isWellFormed?: () => boolean };

export class EntryArena {
  /** A view of shared memory (a slot reused from batch to batch), read in place by the thread. */
  buf: Buffer;
  private slot: SharedArrayBuffer | undefined;
  private view: DataView;
  length = 0;
  entries = 0;
  /** The batch's stream label strings, in the order they first appeared (an entry names its index). */
  readonly labels: string[] = [];
  private readonly streams = new Map<string, number>();
  /** Texts entries name by index (the line's fixed parts). */
  readonly dict: string[] = [];
  private readonly dictIds = new Map<string, number>();
  private readonly dictBytes: number[] = [];
  /** The current entry's line: its UTF-8 bytes as printed, escapes included. */
  private lineBytes = 0;
  /** An entry is begun and not ended. */
  private open = false;
  /** The first entry, for the sender's log lines about a refused batch. */
  sample: { labels: string; ts: bigint; line: string } | undefined;

  constructor() {
    this.slot = takeSlot(0);
    this.buf = Buffer.from(this.slot);
    this.view = new DataView(this.slot);
  }

  /** The shared memory its bytes are in (for the thread), until release(). */
  get shared(): SharedArrayBuffer {
    return this.slot!;
  }

  /** The bytes are not needed any more (the body is made): the slot goes back for another batch. */
  release(): void {
    const slot = this.slot;
    this.slot = undefined;
    if (slot !== undefined) giveSlot(slot);
  }

  /** Starts an entry; returns where it starts (to move it to another arena, see moveLast). */
  begin(labels: string, ts: bigint): number {
    const at = this.length;
    splitTime(ts);
    this.beginSplit(labels, splitSeconds, splitNanos);
    return at;
  }

  /** begin() with the time split already (an entry moved from another arena). */
  private beginSplit(labels: string, seconds: number, nanos: number): void {
    let stream = this.streams.get(labels);
    if (stream === undefined) {
      stream = this.labels.length;
      this.labels.push(labels);
      this.streams.set(labels, stream);
    }
    const at = this.length;
    this.room(HEADER_BYTES);
    const v = this.view;
    v.setUint32(at, stream, true);
    v.setFloat64(at + 4, seconds, true);
    v.setUint32(at + 12, nanos, true);
    this.length = at + HEADER_BYTES;
    this.lineBytes = 0;
    this.open = true;
  }

  /** A fixed text of the line (kept once per batch). */
  text(text: string): void {
    let id = this.dictIds.get(text);
    if (id === undefined) {
      id = this.dict.length;
      this.dict.push(text);
      this.dictIds.set(text, id);
      this.dictBytes.push(Buffer.byteLength(text));
    }
    this.room(5);
    this.buf[this.length] = SEG_DICT;
    this.view.setUint32(this.length + 1, id, true);
    this.length += 5;
    this.lineBytes += this.dictBytes[id]!;
  }

  /** A string, printed as JSON.stringify prints it. */
  string(s: string): void {
    // A lone surrogate has no UTF-8: JSON.stringify prints it escaped, as this text does.
    if ((s as WellFormed).isWellFormed?.() === false) {
      this.raw(JSON.stringify(s));
      return;
    }
    const at = this.length;
    this.bytes(SEG_STRING, s);
    // The quotes, and what escaping adds (batch_size and the memory bounds count printed bytes).
    this.lineBytes += 2 + (NEEDS_ESCAPE.test(s) ? escapeBytes(this.buf, at + 5, this.length) : 0);
  }

  /** Text printed as it is (a number's JSON, a whole line). */
  raw(s: string): void {
    this.bytes(SEG_RAW, s);
  }

  /** Ends the entry's line and writes its structured metadata; returns the line's bytes as printed. */
  end(sm: Readonly<Record<string, string>> | undefined): number {
    this.room(3);
    const b = this.buf;
    b[this.length++] = SEG_END;
    const countAt = this.length;
    this.length += 2;
    let pairs = 0;
    if (sm !== undefined) {
      for (const name in sm) {
        this.counted(name);
        this.counted(sm[name]!);
        pairs++;
      }
    }
    this.view.setUint16(countAt, pairs, true);
    this.entries++;
    this.open = false;
    return this.lineBytes;
  }

  /**
   * Drops the entry started at `at` (the last one) after copying it into `to`, where its stream and
   * texts get `to`'s indexes. `newStream`: its stream came with it, and leaves with it.
   */
  moveLast(at: number, to: EntryArena, newStream: boolean): void {
    const labels = this.labels[this.view.getUint32(at, true)]!;
    to.beginSplit(labels, this.view.getFloat64(at + 4, true), this.view.getUint32(at + 12, true));
    // Dictionary ids are the batch's: the segments are rewritten with `to`'s.
    let r = at + HEADER_BYTES;
    const b = this.buf;
    for (;;) {
      const type = b[r++]!;
      if (type === SEG_END) break;
      const v = b.readUInt32LE(r);
      r += 4;
      if (type === SEG_DICT) to.text(this.dict[v]!);
      else {
        to.room(5 + v);
        to.buf[to.length] = type;
        to.view.setUint32(to.length + 1, v, true);
        b.copy(to.buf, to.length + 5, r, r + v);
        to.length += 5 + v;
        to.lineBytes += v + (type === SEG_STRING ? 2 : 0);
        r += v;
      }
    }
    const smStart = r;
    const pairs = b.readUInt16LE(r);
    r += 2;
    for (let p = 0; p < 2 * pairs; p++) r += 4 + b.readUInt32LE(r);
    to.room(1 + r - smStart);
    to.buf[to.length++] = SEG_END;
    b.copy(to.buf, to.length, smStart, r);
    to.length += r - smStart;
    to.entries++;
    this.length = at;
    this.entries--;
    if (newStream) {
      this.labels.pop();
      this.streams.delete(labels);
    }
  }

  /** Whether an entry of this batch has these labels. */
  has(labels: string): boolean {
    return this.streams.has(labels);
  }

  /** Forgets the entry started at `at` (the last one, being written when it failed). */
  rollback(at: number, newStream: boolean): void {
    const labels = this.labels[this.view.getUint32(at, true)]!;
    this.length = at;
    if (!this.open) this.entries--;
    this.open = false;
    if (newStream) {
      this.labels.pop();
      this.streams.delete(labels);
    }
  }

  private bytes(type: number, s: string): void {
    // At most 3 bytes per UTF-16 unit.
    this.room(5 + 3 * s.length);
    const b = this.buf;
    const n = s.length === 0 ? 0 : b.write(s, this.length + 5, 'utf8');
    b[this.length] = type;
    this.view.setUint32(this.length + 1, n, true);
    this.length += 5 + n;
    this.lineBytes += n;
  }

  /** A metadata name or value: u32 length, UTF-8. */
  private counted(s: string): void {
    this.room(4 + 3 * s.length);
    const n = s.length === 0 ? 0 : this.buf.write(s, this.length + 4, 'utf8');
    this.view.setUint32(this.length, n, true);
    this.length += 4 + n;
  }

  private room(n: number): void {
    const need = this.length + n;
    if (need <= this.buf.length) return;
    const slot = takeSlot(need);
    const next = Buffer.from(slot);
    this.buf.copy(next, 0, 0, this.length);
    if (this.slot !== undefined) giveSlot(this.slot);
    this.slot = slot;
    this.buf = next;
    this.view = new DataView(slot);
  }
}

/** A string JSON.stringify prints with escapes: a quote, a backslash or a control character. */
const NEEDS_ESCAPE = /["\\\u0000-\u001f]/;

/** The bytes JSON.stringify's escapes add to the UTF-8 string in buf[from, to): \" \\ \n and the like one, \u00XX five. */
function escapeBytes(buf: Buffer, from: number, to: number): number {
  let extra = 0;
  for (let i = from; i < to; i++) {
    const c = buf[i]!;
    if (c >= 0x20) {
      if (c === 0x22 || c === 0x5c) extra++;
    } else if (c === 0x08 || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d) extra++;
    else extra += 5;
  }
  return extra;
}


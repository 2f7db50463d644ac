/**
 * The nesting limit on forward frames (core/limits.ts): an entry whose record (or metadata) nests
 * maps and arrays deeper than MAX_RECORD_NESTING is refused and counted, the frame's other entries
 * are kept. A record sits at level 2 of its frame or deeper, so a frame of at most FRAME_LEVELS levels
 * (the rule: one walk or one compare per frame) is decoded as it always was; only a deeper frame is
 * taken apart here, element by element and entry by entry, so that msgpackr (which recurses) never
 * decodes more than the limit allows.
 */
import { MAX_RECORD_NESTING, nestingExceeds } from '../../core/limits.js';
import { measureValue, type Measured } from '../../msgpack/measure.js';
import { uint32 } from '../../msgpack/value-end.js';
import { ForwardProtocolError } from '../../forward/protocol-error.js';
import { unpackr } from './msgpack-event.js';

/** Stands in a decoded frame for an element or an entry nested too deeply to decode. */
export class TooDeep {
  toString(): string {
    return `a value nested deeper than ${MAX_RECORD_NESTING} levels`;
  }
}
export const TOO_DEEP = new TooDeep();

/** A frame nested at most this deep holds no record deeper than the limit. */
export const FRAME_LEVELS = MAX_RECORD_NESTING + 1;
/** An entry `[time, record]` nested at most this deep holds a record within the limit. */
const ENTRY_LEVELS = MAX_RECORD_NESTING + 1;

/** Forward mode's second element: an array of entries, each an array. */
function isEntries(value: unknown): value is unknown[] {
  return Array.isArray(value) && (value.length === 0 || Array.isArray(value[0]));
}

/**
 * A JSON frame deeper than FRAME_LEVELS (JSON.parse itself does not recurse): its entries and elements
 * nested too deeply are replaced by TOO_DEEP, in place.
 */
export function boundJsonFrame(frame: unknown): void {
  if (!Array.isArray(frame)) return;
  for (let i = 1; i < frame.length; i++) {
    const element: unknown = frame[i];
    if (i === 1 && isEntries(element)) {
      for (let j = 0; j < element.length; j++) if (nestingExceeds(element[j], ENTRY_LEVELS)) element[j] = TOO_DEEP;
    } else if (nestingExceeds(element, MAX_RECORD_NESTING)) {
      frame[i] = TOO_DEEP;
    }
  }
}

/**
 * A msgpack frame deeper than FRAME_LEVELS, decoded as msgpackr would decode it, except that an
 * element or entry nested too deeply is TOO_DEEP instead (and never given to msgpackr).
 */
export function unpackDeepFrame(buf: Buffer, start: number, end: number, measured: Measured): unknown[] {
  const header = arrayHeader(buf, start, end);
  if (header === undefined) throw new ForwardProtocolError(`a frame must be an array, got ${TOO_DEEP}`);
  const [count, first] = header;
  const frame: unknown[] = new Array(count);
  let p = first;
  for (let i = 0; i < count; i++) {
    const next = elementEnd(buf, p, end, MAX_RECORD_NESTING, measured);
    if (measured.levels <= MAX_RECORD_NESTING) frame[i] = unpackOne(buf, p, next);
    else if (i === 1 && entriesAt(buf, p, next)) frame[i] = unpackEntries(buf, p, next, measured);
    else frame[i] = TOO_DEEP;
    p = next;
  }
  return frame;
}

/**
 * PackedForward entries from the first one that is not plain msgpack: msgpackr decodes them all at
 * once unless one is nested too deeply (one walk over them says), then one by one around it.
 */
export function unpackPackedEntries(bytes: Buffer, measured: Measured): unknown[] {
  const end = bytes.length;
  let deep = false;
  for (let p = 0; p < end; ) {
    p = elementEnd(bytes, p, end, ENTRY_LEVELS, measured, 'packed entries are not valid msgpack: the last entry is truncated');
    if (measured.levels > ENTRY_LEVELS) deep = true;
  }
  if (!deep) {
    try {
      return unpackr.unpackMultiple(bytes) as unknown[];
    } catch (err) {
      throw new ForwardProtocolError(`packed entries are not valid msgpack: ${messageOf(err)}`);
    }
  }
  const entries: unknown[] = [];
  for (let p = 0; p < end; ) {
    const next = elementEnd(bytes, p, end, ENTRY_LEVELS, measured);
    entries.push(measured.levels > ENTRY_LEVELS ? TOO_DEEP : unpackOne(bytes, p, next));
    p = next;
  }
  return entries;
}

/** The end of the value at `p`, with its nesting in `measured`; a value cut short or 0xc1 is a protocol error. */
function elementEnd(buf: Buffer, p: number, end: number, cap: number, measured: Measured, truncated = 'invalid msgpack: a value is truncated'): number {
  const next = measureValue(buf, p, end, cap, measured);
  if (next >= 0) return next;
  throw new ForwardProtocolError(next === -1 ? truncated : `not msgpack: byte 0xc1`);
}

/** Forward mode's entries: decoded one by one, those nested too deeply left as TOO_DEEP. */
function unpackEntries(buf: Buffer, start: number, end: number, measured: Measured): unknown[] {
  const [count, first] = arrayHeader(buf, start, end)!;
  const entries: unknown[] = new Array(count);
  let p = first;
  for (let i = 0; i < count; i++) {
    const next = elementEnd(buf, p, end, ENTRY_LEVELS, measured);
    entries[i] = measured.levels > ENTRY_LEVELS ? TOO_DEEP : unpackOne(buf, p, next);
    p = next;
  }
  return entries;
}

/** Whether the value at `p` is an array whose first element, if any, is an array: Forward mode's entries. */
function entriesAt(buf: Buffer, p: number, end: number): boolean {
  const header = arrayHeader(buf, p, end);
  if (header === undefined) return false;
  return header[0] === 0 || arrayHeader(buf, header[1], end) !== undefined;
}

/** [element count, offset of the first element] of the array header at `p`, or undefined for another type. */
function arrayHeader(buf: Buffer, p: number, end: number): [number, number] | undefined {
  const h = buf[p];
  if (h === undefined) return undefined;
  if (h >= 0x90 && h <= 0x9f) return [h & 0x0f, p + 1];
  if (h === 0xdc && p + 3 <= end) return [(buf[p + 1]! << 8) | buf[p + 2]!, p + 3];
  if (h === 0xdd && p + 5 <= end) return [uint32(buf, p + 1), p + 5];
  return undefined;
}

function unpackOne(buf: Buffer, start: number, end: number): unknown {
  try {
    return unpackr.unpack(buf, { start, end });
  } catch (err) {
    if (err instanceof ForwardProtocolError) throw err;
    throw new ForwardProtocolError(`invalid msgpack: ${messageOf(err)}`);
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

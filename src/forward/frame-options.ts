/**
 * The option map that ends a forward frame, and the `chunk` id an ack answers.
 *
 * Keys in Fluent Bit's order (plugins/out_forward/forward_format.c `append_options`, checked on the
 * 5.1.1 binary): `chunk`, `size` (entries; not in Message mode), `compressed`, `fluent_signal` (0:
 * logs), the `add_option` pairs, then `metadata` (Message mode, when the entry has some).
 */
import { randomBytes } from 'node:crypto';
import type { MsgpackWriter } from './msgpack-writer.js';

/** Fluent Bit's `fluent_signal` for logs, the only signal floki sends. */
export const FLUENT_SIGNAL_LOGS = 0;

export interface FrameOptionValues {
  chunk?: string;
  /** Number of entries (Forward and CompressedPackedForward modes). */
  size?: number;
  compressed?: 'gzip';
  /** `add_option` key/value pairs, sent as strings. */
  extra: readonly (readonly [string, string])[];
  /** Message mode: the entry's v1.5 metadata map, as msgpack bytes. */
  metadata?: Uint8Array;
}

export function writeFrameOptions(w: MsgpackWriter, o: FrameOptionValues): void {
  let n = 1 + o.extra.length;
  if (o.chunk !== undefined) n++;
  if (o.size !== undefined) n++;
  if (o.compressed !== undefined) n++;
  if (o.metadata !== undefined) n++;
  w.mapHeader(n);
  if (o.chunk !== undefined) {
    w.str('chunk');
    w.str(o.chunk);
  }
  if (o.size !== undefined) {
    w.str('size');
    w.uint(o.size);
  }
  if (o.compressed !== undefined) {
    w.str('compressed');
    w.str(o.compressed);
  }
  w.str('fluent_signal');
  w.uint(FLUENT_SIGNAL_LOGS);
  for (const [key, value] of o.extra) {
    w.str(key);
    w.str(value);
  }
  if (o.metadata !== undefined) {
    w.str('metadata');
    w.raw(o.metadata);
  }
}

/** Chunk ids are this process's random prefix and a counter (see newChunkId). */
const chunkIdBytes = randomBytes(16);
let chunkCounter = 0;

/**
 * A new `chunk` option: 16 bytes in Base64, as long as Fluent Bit's. Fluent Bit hashes the entries
 * (SHA-512); an id only has to be unique among the chunks a receiver is acking, and a frame sent again
 * keeps the id it was given, so floki takes 8 random bytes per process and a counter rather than spend
 * a hash over every byte sent (an eighth of a forwarding node agent's CPU).
 */
export function newChunkId(): string {
  chunkCounter = chunkCounter === 0xffffffff ? 0 : chunkCounter + 1;
  if (chunkCounter === 0) chunkIdBytes.writeUInt32BE((chunkIdBytes.readUInt32BE(8) + 1) >>> 0, 8);
  chunkIdBytes.writeUInt32BE(chunkCounter, 12);
  return chunkIdBytes.toString('base64');
}

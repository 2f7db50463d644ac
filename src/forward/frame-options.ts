/**
 * The option map that ends a forward frame, and the `chunk` id an ack answers.
 *
 * Keys in Fluent Bit's order (plugins/out_forward/forward_format.c `append_options`, checked on the
 * 5.1.1 binary): `chunk`, `size` (entries; not in Message mode), `compressed`, `fluent_signal` (0:
 * logs), the `add_option` pairs, then `metadata` (Message mode, when the entry has some).
 */
import { createHash } from 'node:crypto';
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

/**
 * The `chunk` option: Base64 of the first 16 bytes of the SHA-512 of the entries, as Fluent Bit
 * computes it. It depends only on the content, so a chunk sent again carries the same id.
 */
export function chunkIdOf(bytes: Uint8Array): string {
  return createHash('sha512').update(bytes).digest().subarray(0, 16).toString('base64');
}

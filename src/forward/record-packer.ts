/**
 * Records (and v1.5 entry metadata) as msgpack, for a forward frame.
 *
 * msgpackr with the settings a forward peer can read: objects as plain maps sized to their keys,
 * `undefined` as nil (msgpackr's default writes it as a 1-byte ext of type 0, which a receiver would
 * take for a broken EventTime), no msgpackr records or structured clone extensions. Buffers are bin,
 * Dates msgpack timestamps (ext -1), bigints int64, and an EventTime inside a record (the forward
 * input decodes one to an `EventTime`) is written back as ext type 0 (msgpack-extensions.ts).
 */
import { Packr } from 'msgpackr';
import { registerForwardExtensions } from './msgpack-extensions.js';

registerForwardExtensions();

const packr = new Packr({ useRecords: false, encodeUndefinedAsNil: true, variableMapSize: true, structuredClone: false });

/**
 * The value's msgpack bytes. The buffer is msgpackr's own and is overwritten by the next call: copy
 * it (MsgpackWriter.raw) before packing anything else.
 */
export function packValue(value: unknown): Buffer {
  return packr.pack(value);
}

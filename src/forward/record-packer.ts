/**
 * Records (and v1.5 entry metadata) as msgpack, for a forward frame.
 *
 * msgpackr with the settings a forward peer can read: objects as plain maps sized to their keys,
 * `undefined` as nil (msgpackr's default writes it as a 1-byte ext of type 0, which a receiver would
 * take for a broken EventTime), no msgpackr records or structured clone extensions. Buffers are bin,
 * Dates msgpack timestamps (ext -1), bigints int64, and an EventTime inside a record (the forward
 * input decodes one to an `EventTime`) is written back as ext type 0.
 */
import { addExtension, Packr } from 'msgpackr';
import { EVENT_TIME_EXT_TYPE, EventTime } from './event-time.js';

let registered = false;

function registerEventTimePacking(): void {
  if (registered) return;
  addExtension({
    Class: EventTime,
    // msgpackr refuses type 0 for a class (it tests `!type`), so `pack` writes the whole fixext 8
    // itself into the space `allocate` gives and returns nothing: this type is a placeholder, outside
    // the byte range, that msgpackr never writes or reads. Decoding ext 0 stays the forward input's.
    type: 0x100,
    pack(value: EventTime, allocate: (size: number) => { target: Uint8Array; position: number }): undefined {
      const { target, position } = allocate(10);
      target[position] = 0xd7;
      target[position + 1] = EVENT_TIME_EXT_TYPE;
      const view = new DataView(target.buffer, target.byteOffset + position + 2, 8);
      view.setUint32(0, value.seconds >>> 0);
      view.setUint32(4, value.nanoseconds >>> 0);
      return undefined;
    },
  } as unknown as Parameters<typeof addExtension>[0]);
  registered = true;
}

registerEventTimePacking();

const packr = new Packr({ useRecords: false, encodeUndefinedAsNil: true, variableMapSize: true, structuredClone: false });

/**
 * The value's msgpack bytes. The buffer is msgpackr's own and is overwritten by the next call: copy
 * it (MsgpackWriter.raw) before packing anything else.
 */
export function packValue(value: unknown): Buffer {
  return packr.pack(value);
}

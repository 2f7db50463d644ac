/**
 * msgpackr's extensions for the forward protocol, both ways, in one place. msgpackr keeps extensions
 * in one process-wide table, so they are registered once for the input and the output alike:
 *
 * - reading: ext type 0 is the forward protocol's EventTime (msgpackr's default reads it as
 *   `undefined`), and msgpackr's private types are refused;
 * - writing: an `EventTime` (a record the forward input decoded may hold one) is written back as
 *   ext type 0.
 */
import { addExtension } from 'msgpackr';
import { EVENT_TIME_EXT_TYPE, EventTime, unpackEventTime } from './event-time.js';
import { ForwardProtocolError } from './protocol-error.js';

/**
 * Ext types msgpackr 2.x gives its own meaning (BigInt, Error, RegExp, Set, typed arrays, bundled
 * strings, structured clone references). Frames are checked by MsgpackObjectScanner, but packed
 * entries are handed to msgpackr whole, so without this a sender could have a record hold a RegExp
 * or a Set built from its data. -1 (msgpack's timestamp, read as a Date) stays: it is standard.
 */
const MSGPACKR_EXT_TYPES = [0x42, 0x62, 0x65, 0x69, 0x70, 0x73, 0x74, 0x78];

let registered = false;

export function registerForwardExtensions(): void {
  if (registered) return;
  addExtension({ type: EVENT_TIME_EXT_TYPE, unpack: unpackEventTime });
  for (const type of MSGPACKR_EXT_TYPES) {
    addExtension({
      type,
      unpack: () => {
        throw new ForwardProtocolError(`msgpack ext type ${type} is not part of the forward protocol`);
      },
    });
  }
  addExtension({
    Class: EventTime,
    // msgpackr refuses type 0 for a class (it tests `!type`), so `pack` writes the whole fixext 8
    // itself into the space `allocate` gives and returns nothing: this type is a placeholder, outside
    // the byte range, that msgpackr never writes or reads.
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

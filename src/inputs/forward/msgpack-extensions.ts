import { addExtension } from 'msgpackr';
import { ForwardProtocolError } from './errors.js';
import { EVENT_TIME_EXT_TYPE, unpackEventTime } from './event-time.js';

/**
 * Ext types msgpackr 2.x gives its own meaning (BigInt, Error, RegExp, Set, typed arrays, bundled
 * strings, structured clone references). Frames are checked by MsgpackObjectScanner, but packed
 * entries are handed to msgpackr whole, so without this a sender could have a record hold a RegExp
 * or a Set built from its data. -1 (msgpack's timestamp, read as a Date) stays: it is standard.
 */
const MSGPACKR_EXT_TYPES = [0x42, 0x62, 0x65, 0x69, 0x70, 0x73, 0x74, 0x78];

let registered = false;

/**
 * msgpackr keeps extensions in one process-wide table: the forward input reads ext type 0 as the
 * forward protocol's EventTime (msgpackr's default reads it as `undefined`) and refuses msgpackr's
 * private types. Nothing else in floki decodes msgpack.
 */
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
  registered = true;
}

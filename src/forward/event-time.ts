/** The forward protocol's EventTime, for both directions: its ext type, the value, and its decoding. */
import { uint32 } from '../msgpack/value-end.js';
import { ForwardProtocolError } from './protocol-error.js';

/** msgpack ext type of the forward protocol's EventTime. */
export const EVENT_TIME_EXT_TYPE = 0;

/** The forward protocol's EventTime: ext type 0, uint32 BE seconds then uint32 BE nanoseconds. */
export class EventTime {
  constructor(
    readonly seconds: number,
    readonly nanoseconds: number,
  ) {}
}

export function unpackEventTime(data: Uint8Array): EventTime {
  if (data.length !== 8) throw new ForwardProtocolError(`EventTime (ext type 0) must carry 8 bytes, got ${data.length}`);
  return new EventTime(uint32(data, 0), uint32(data, 4));
}

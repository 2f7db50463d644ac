import { ForwardProtocolError } from './errors.js';

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
  // `* 0x1000000` instead of `<< 24` keeps the top bit from turning the uint32 negative.
  const seconds = data[0]! * 0x1000000 + ((data[1]! << 16) | (data[2]! << 8) | data[3]!);
  const nanoseconds = data[4]! * 0x1000000 + ((data[5]! << 16) | (data[6]! << 8) | data[7]!);
  return new EventTime(seconds, nanoseconds);
}

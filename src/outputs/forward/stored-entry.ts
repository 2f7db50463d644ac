/**
 * The forward output's disk buffer entry, as Avro (`floki.ForwardEntry`): the tag to send, the time in
 * ns, and the record's and v1.5 metadata's msgpack bytes as they go into a frame, so reading a block
 * back costs no decoding.
 */
import { entryCodec } from '../../storage/entry-schema.js';

export interface StoredForwardEntry {
  tag: string;
  /** Nanoseconds since the epoch. */
  timestamp: bigint;
  /** The record, msgpack. */
  record: Buffer;
  /** The entry's v1.5 metadata map, msgpack; empty when it has none. */
  metadata: Buffer;
}

export const FORWARD_ENTRY_SCHEMA = {
  type: 'record',
  name: 'ForwardEntry',
  namespace: 'floki',
  doc: 'One forward output entry waiting in a floki disk buffer segment.',
  fields: [
    { name: 'tag', type: 'string' },
    { name: 'timestamp', type: 'long', doc: 'nanoseconds since the Unix epoch' },
    { name: 'record', type: 'bytes', doc: 'the record as msgpack' },
    { name: 'metadata', type: 'bytes', default: '', doc: 'the v1.5 metadata map as msgpack; empty when none' },
  ],
} as const;

export const FORWARD_ENTRY = entryCodec<StoredForwardEntry>(FORWARD_ENTRY_SCHEMA);

/**
 * What a disk queue stores: each output declares the Avro schema of its entries (the Loki output's
 * in loki/stored-entry.ts, the forward output's in forward/stored-entry.ts) and hands it to the
 * SegmentQueue as an `EntryCodec`. Timestamps are Avro longs holding nanoseconds since the epoch;
 * avsc would read a long into a double (exact only to 2^53, about 104 days of nanoseconds), so `long`
 * is mapped to a bigint-backed type: no precision is ever lost.
 */
import type avro from 'avsc';
import { avsc } from './avsc.js';

/** The schema of one kind of entry, and its avsc type (longs as bigints). */
export interface EntryCodec<E> {
  schema: unknown;
  /** Made at first use: avsc loads only when a disk buffer needs it. */
  readonly type: avro.Type;
  /** Only for typing: the entries this codec reads and writes. */
  readonly entry?: E;
}

let bigintLong: avro.types.LongType | undefined;
const makeBigintLong = (): avro.types.LongType =>
  avsc().types.LongType.__with({
    fromBuffer: (buf: Buffer): bigint => buf.readBigInt64LE(),
    toBuffer: (n: bigint): Buffer => {
      const buf = Buffer.allocUnsafe(8);
      buf.writeBigInt64LE(n);
      return buf;
    },
    fromJSON: (v: unknown): bigint => BigInt(v as string | number),
    toJSON: (n: bigint): string => n.toString(),
    isValid: (n: unknown): boolean => typeof n === 'bigint',
    compare: (a: bigint, b: bigint): number => (a === b ? 0 : a < b ? -1 : 1),
  });

/** An avsc type for `schema` whose longs are bigints. */
export function avroType(schema: unknown): avro.Type {
  bigintLong ??= makeBigintLong();
  return avsc().Type.forSchema(schema as avro.Schema, { registry: { long: bigintLong } });
}

export function entryCodec<E>(schema: unknown): EntryCodec<E> {
  let type: avro.Type | undefined;
  return {
    schema,
    get type(): avro.Type {
      return (type ??= avroType(schema));
    },
  };
}

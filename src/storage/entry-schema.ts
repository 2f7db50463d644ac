/**
 * The Avro schema of a buffered Loki entry, and its avsc type. Timestamps are Avro longs holding
 * nanoseconds since the epoch; avsc would read a long into a double (exact only to 2^53, about 104
 * days of nanoseconds), so `long` is mapped to a bigint-backed type: no precision is ever lost.
 */
import avro from 'avsc';

export interface StoredEntry {
  /** X-Scope-OrgID, null for a single-tenant Loki. */
  tenant: string | null;
  /** The stream's label string, `{a="b", c="d"}`. */
  labels: string;
  /** Nanoseconds since the epoch. */
  timestamp: bigint;
  line: string;
  /** Loki 3 structured metadata (empty when none). */
  structured_metadata: Record<string, string>;
}

export const ENTRY_SCHEMA = {
  type: 'record',
  name: 'LokiEntry',
  namespace: 'floki',
  doc: 'One Loki entry waiting in a floki disk buffer segment.',
  fields: [
    { name: 'tenant', type: ['null', 'string'], default: null },
    { name: 'labels', type: 'string' },
    { name: 'timestamp', type: 'long', doc: 'nanoseconds since the Unix epoch' },
    { name: 'line', type: 'string' },
    { name: 'structured_metadata', type: { type: 'map', values: 'string' }, default: {} },
  ],
} as const;

const bigintLong = avro.types.LongType.__with({
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
  return avro.Type.forSchema(schema as avro.Schema, { registry: { long: bigintLong } });
}

export const ENTRY_TYPE = avroType(ENTRY_SCHEMA);

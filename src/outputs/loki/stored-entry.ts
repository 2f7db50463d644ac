/** The Loki output's disk buffer entry: one Loki entry with its tenant and stream, as Avro (`floki.LokiEntry`). */
import { entryCodec } from '../../storage/entry-schema.js';

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

export const LOKI_ENTRY_SCHEMA = {
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

export const LOKI_ENTRY = entryCodec<StoredEntry>(LOKI_ENTRY_SCHEMA);

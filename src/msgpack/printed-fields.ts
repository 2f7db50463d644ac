/**
 * The fields the transcode thread captures while it prints a record (see transcode-pool.ts): those
 * the event_exporter filter labels an event by. With them captured on the thread, the filter does
 * not walk the record's bytes again on the main thread (in W1 that walk was a tenth of its time).
 */
import type { FieldPath } from './json-transcoder.js';

/** type, reason, involvedObject.kind, involvedObject.namespace: in this order. */
export const PRINTED_FIELDS: readonly FieldPath[] = [['type'], ['reason'], ['involvedObject', 'kind'], ['involvedObject', 'namespace']];

/** The captured values of one record, in PRINTED_FIELDS' order (undefined: absent, or not a string). Shared by records with the same values. */
export type PrintedFields = readonly (string | undefined)[];

/** A record the thread printed: its captured fields too, when the thread kept them (see transcode-worker.ts). */
export interface PrintedFieldsRecord {
  readonly printedFields: PrintedFields | undefined;
  /** The UTF-8 length of its `json` when the thread knows it (an ASCII text), else -1. */
  readonly printedBytes: number;
  /** Its `json`, read without counting as a reader of it (see inputs/forward/json-demand.ts). */
  readonly printedJson: string | undefined;
}

/** Numbers per record in a transcode job's shared results (transcode-worker.ts). */
export const RESULT_STRIDE = 3;

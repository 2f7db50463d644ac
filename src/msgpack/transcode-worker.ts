/**
 * The thread of a TranscodePool: prints records' JSON from their msgpack bytes, and captures the
 * fields of PRINTED_FIELDS on the way. Everything it reads and writes per record is in shared memory
 * the pool owns (see transcode-pool.ts), so a job allocates next to nothing here.
 *
 * Captured fields go back as a number per record: the id of their distinct values (a handful in a
 * stream of exporter events), which the thread numbers and sends once, with the first job that uses
 * them. The ids are bounded in characters: past MAX_TUPLE_CHARS the thread starts over at its next
 * job (the reply says `reset`, before its new values), and values longer than MAX_VALUE_CHARS get no id (the main
 * thread reads those from the bytes, as without the thread).
 */
import { parentPort } from 'node:worker_threads';
import { MsgpackJsonTranscoder } from './json-transcoder.js';
import { PRINTED_FIELDS, RESULT_STRIDE, type PrintedFields } from './printed-fields.js';

export interface TranscodeJob {
  id: number;
  /** Which of the pool's slots holds the job: its buffers come with the slot's first job (or when they change). */
  slot: number;
  /** The records' bytes: `length` bytes of the slot's input. */
  length: number;
  /** Records: their start and end in the input are the first two of each triple of the slot's `results` (read, then overwritten). */
  count: number;
  /** The slot's shared buffers, sent once: the input, where the JSON texts go, and the results. */
  input?: SharedArrayBuffer;
  output?: SharedArrayBuffer;
  /**
   * Per record, three numbers: the end of its text in the output (-1: not printed, the main thread
   * will), 1 if ASCII, and the id of its captured fields (-1: none kept).
   */
  results?: SharedArrayBuffer;
}

/** The thread's answer: the job's id alone, or with the captured values it numbered for it. */
export type TranscodeReply = number | { id: number; reset: boolean; fields: [number, PrintedFields][] };

/** Field values kept numbered, in characters, before the numbering starts over. */
const MAX_TUPLE_CHARS = 1024 * 1024;
/** One record's values longer than this together are not numbered. */
const MAX_VALUE_CHARS = 4096;

interface SlotViews {
  input: SharedArrayBuffer;
  output: Buffer;
  results: Int32Array;
}

const transcoder = new MsgpackJsonTranscoder(PRINTED_FIELDS);
const fields = transcoder.fields;
const slots: SlotViews[] = [];
/** Captured values → id: one map per field (the values are interned strings: no key is built per record). */
type Trie = Map<string | undefined, Trie | number>;
let ids: Trie = new Map();
let idCount = 0;
/** What the numbered values hold, in characters (a fixed cost per field for the maps). */
let tupleChars = 0;

/** The id of the values just captured; new values are added to `fresh`. */
function fieldsId(fresh: [number, PrintedFields][]): number {
  let chars = 0;
  for (let f = 0; f < fields.length; f++) chars += fields[f]?.length ?? 0;
  if (chars > MAX_VALUE_CHARS) return -1;
  let node = ids;
  const last = fields.length - 1;
  for (let f = 0; f < last; f++) {
    const v = fields[f];
    let next = node.get(v) as Trie | undefined;
    if (next === undefined) node.set(v, (next = new Map()));
    node = next;
  }
  let id = node.get(fields[last]) as number | undefined;
  if (id === undefined) {
    id = idCount++;
    node.set(fields[last], id);
    tupleChars += chars + 16 * fields.length;
    fresh.push([id, fields.slice()]);
  }
  return id;
}

parentPort!.on('message', (job: TranscodeJob) => {
  let slot = slots[job.slot];
  if (job.input !== undefined && job.output !== undefined && job.results !== undefined) {
    slot = { input: job.input, output: Buffer.from(job.output), results: new Int32Array(job.results) };
    slots[job.slot] = slot;
  }
  const input = Buffer.from(slot!.input, 0, job.length);
  const output = slot!.output;
  const results = slot!.results;
  const fresh: [number, PrintedFields][] = [];
  // Only between jobs, so that every id of a job is of one numbering. A job adds at most its input's
  // characters (the values are in it) past the bound.
  const reset = tupleChars > MAX_TUPLE_CHARS;
  if (reset) {
    ids = new Map();
    idCount = 0;
    tupleChars = 0;
  }
  let o = 0;
  for (let i = 0, r = 0, n = job.count; i < n; i++, r += RESULT_STRIDE) {
    // Printed in place, after the previous text (a declined record's bytes there are written over).
    const length = transcoder.printInto(input, results[r]!, results[r + 1]!, output, o, output.length);
    if (length < 0) {
      results[r] = -1;
      continue;
    }
    o += length;
    results[r] = o;
    results[r + 1] = transcoder.outputAscii ? 1 : 0;
    results[r + 2] = fieldsId(fresh);
  }
  const answer: TranscodeReply = fresh.length === 0 && !reset ? job.id : { id: job.id, reset, fields: fresh };
  parentPort!.postMessage(answer);
});

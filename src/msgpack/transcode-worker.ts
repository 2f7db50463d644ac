/**
 * The thread of a TranscodePool: prints records' JSON from their msgpack bytes. Everything it reads
 * and writes is in shared memory the pool owns (see transcode-pool.ts), so a job allocates next to
 * nothing here.
 */
import { parentPort } from 'node:worker_threads';
import { MsgpackJsonTranscoder } from './json-transcoder.js';

export interface TranscodeJob {
  id: number;
  /** Which of the pool's slots holds the job: its buffers come with the slot's first job (or when they change). */
  slot: number;
  /** The records' bytes: `length` bytes of the slot's input. */
  length: number;
  /** Records: their start and end in the input are pairs of the slot's `results` (read, then overwritten). */
  count: number;
  /** The slot's shared buffers, sent once: the input, where the JSON texts go, and the results. */
  input?: SharedArrayBuffer;
  output?: SharedArrayBuffer;
  /** Per record: the end of its text in the output (-1: not printed, the main thread will), and 1 if ASCII. */
  results?: SharedArrayBuffer;
}

interface SlotViews {
  input: SharedArrayBuffer;
  output: Buffer;
  results: Int32Array;
}

const transcoder = new MsgpackJsonTranscoder([]);
const slots: SlotViews[] = [];

parentPort!.on('message', (job: TranscodeJob) => {
  let slot = slots[job.slot];
  if (job.input !== undefined && job.output !== undefined && job.results !== undefined) {
    slot = { input: job.input, output: Buffer.from(job.output), results: new Int32Array(job.results) };
    slots[job.slot] = slot;
  }
  const input = Buffer.from(slot!.input, 0, job.length);
  const output = slot!.output;
  const results = slot!.results;
  let o = 0;
  for (let i = 0, n = job.count; i < n; i++) {
    const length = transcoder.print(input, results[2 * i]!, results[2 * i + 1]!);
    if (length < 0 || o + length > output.length) {
      results[2 * i] = -1;
      continue;
    }
    transcoder.output.copy(output, o, 0, length);
    o += length;
    results[2 * i] = o;
    results[2 * i + 1] = transcoder.outputAscii ? 1 : 0;
  }
  parentPort!.postMessage(job.id);
});

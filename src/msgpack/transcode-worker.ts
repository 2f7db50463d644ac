/**
 * The thread of a TranscodePool: prints records' JSON from their msgpack bytes. Everything it reads
 * and writes is in shared memory the pool owns (see transcode-pool.ts), so a job allocates next to
 * nothing here.
 */
import { parentPort } from 'node:worker_threads';
import { MsgpackJsonTranscoder } from './json-transcoder.js';

export interface TranscodeJob {
  id: number;
  /** The records' bytes: `length` bytes of `input`. */
  input: SharedArrayBuffer;
  length: number;
  /** Per record: start, end in the input. */
  offsets: Int32Array;
  /** Where the JSON texts go, one after another. */
  output: SharedArrayBuffer;
  /** Per record: the end of its text in the output (-1: not printed, the main thread will), and 1 if ASCII. */
  results: SharedArrayBuffer;
}

const transcoder = new MsgpackJsonTranscoder([]);

parentPort!.on('message', (job: TranscodeJob) => {
  const input = Buffer.from(job.input, 0, job.length);
  const output = Buffer.from(job.output);
  const results = new Int32Array(job.results);
  const offsets = job.offsets;
  let o = 0;
  for (let i = 0, n = offsets.length >> 1; i < n; i++) {
    const length = transcoder.print(input, offsets[2 * i]!, offsets[2 * i + 1]!);
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

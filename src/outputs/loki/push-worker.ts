/**
 * Turns a batch's entry arena (entry-arena.ts) into a request body: prints the lines, frames the
 * PushRequest (arena-encoding.ts) and compresses it with snappy. On the main thread by default; with
 * `threadBatches` > 0 on a thread of its own, while the main thread reads and routes the next records
 * (started at the first large batch; if it cannot start or dies, the main thread does the work).
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { ARENA_ENCODER_SOURCE, encodeArenaInline } from './arena-encoding.js';
import type { EntryArena } from './entry-arena.js';

/**
 * Batches given to the thread and not done: past this, the next one is encoded on the main thread.
 * 0 by default (no thread): measured on W2 and node-agent (issue #12), the thread gained little rate
 * (W2 76-88 against 67-79 MiB/s) for more CPU (5.8-6.8 against 5.2-5.3 s) and 80-150 MiB more peak
 * RSS (node-agent 299-312 against 197-219 MiB, over its 250 MiB bound), for reasons not found yet.
 */
export const DEFAULT_THREAD_BATCHES = 0;

function nativeSnappyPath(): string | undefined {
  try {
    return createRequire(import.meta.url).resolve('snappy');
  } catch {
    return undefined;
  }
}

const workerSource = (nativePath: string | undefined, snappyjsPath: string): string => `
const { parentPort } = require('node:worker_threads');
// A young-generation collection after every batch (a few MiB young generation: well under a
// millisecond): what a batch leaves behind here (the snappy binding's output, tables) is let go at
// once. Every 8 MiB of input, as the snappy thread does, left W2's peak RSS 30-60 MiB higher.
let collect;
try {
  require('node:v8').setFlagsFromString('--expose-gc');
  collect = require('node:vm').runInNewContext('gc');
} catch {}
let compress;
try {
  const native = ${nativePath === undefined ? 'undefined' : `require(${JSON.stringify(nativePath)})`};
  if (native && typeof native.compressSync === 'function') compress = (input) => native.compressSync(input);
} catch {}
if (compress === undefined) compress = require(${JSON.stringify(snappyjsPath)}).compress;
const encodeArena = ${ARENA_ENCODER_SOURCE};
parentPort.on('message', (m) => {
  let out;
  try {
    const raw = encodeArena(Buffer.from(m.buf, 0, m.length), m.length, m.dict, m.labels, true);
    out = compress(raw);
  } catch (err) {
    parentPort.postMessage({ id: m.id, error: String(err && err.stack || err) });
    return;
  }
  // The body goes back in the arena's shared memory, copied out on the
  // main thread: a buffer made here and freed there (the binding's output) left the allocator
  // holding memory it could not give back (W2's peak RSS 30-80 MiB higher).
  // After the entries, which stay as they were: if this thread dies, the main one encodes them.
  if (m.length + out.length <= m.buf.byteLength) {
    Buffer.from(m.buf, m.length, out.length).set(out);
    parentPort.postMessage({ id: m.id, offset: m.length, length: out.length });
  } else {
    if (out.byteOffset !== 0 || out.buffer.byteLength !== out.byteLength) out = out.slice();
    parentPort.postMessage({ id: m.id, out }, [out.buffer]);
  }
  out = undefined;
  if (collect !== undefined) collect({ type: 'minor' });
});
`;

interface Job {
  resolve(out: Uint8Array): void;
  /** The arena's shared memory, where the thread puts the body. */
  readonly shared: SharedArrayBuffer;
  reject(err: Error): void;
  /** Encodes it here, if the thread dies before answering. */
  readonly retry: () => Promise<Uint8Array>;
}

export interface PushWorkerOptions {
  /** Compresses a body on this thread, before it returns (the body's buffer is reused after). */
  compressInline(raw: Buffer): Promise<Uint8Array>;
  /** true (the default): the native snappy binding in the thread where it loads. */
  native?: boolean;
  /** false: everything on this thread (tests). */
  useWorker?: boolean;
  /** Arenas at least this big go to the thread (as the snappy compressor's bodies). */
  offloadMinBytes?: number;
  /** Batches at the thread at once (DEFAULT_THREAD_BATCHES: none, the thread is not started). */
  threadBatches?: number;
}

export class PushWorker {
  private worker: Worker | undefined;
  private failed: boolean;
  private readonly jobs = new Map<number, Job>();
  private nextId = 0;
  private readonly nativePath: string | undefined;
  private readonly offloadMinBytes: number;
  private readonly threadBatches: number;

  constructor(private readonly options: PushWorkerOptions) {
    this.threadBatches = options.threadBatches ?? DEFAULT_THREAD_BATCHES;
    this.failed = options.useWorker === false;
    this.offloadMinBytes = options.offloadMinBytes ?? 64 * 1024;
    const wantNative = options.native ?? process.env.FLOKI_SNAPPY !== 'js';
    this.nativePath = wantNative ? nativeSnappyPath() : undefined;
  }

  /** The compressed PushRequest of the arena's entries. The arena is not to be used after. */
  encode(arena: EntryArena): Promise<Uint8Array> {
    const { buf, length, dict, labels } = arena;
    const body = this.encodeBytes(arena, buf, length, dict, labels);
    // The slot is reused once the body is made (or could not be).
    body.then(
      () => arena.release(),
      () => arena.release(),
    );
    return body;
  }

  private encodeBytes(arena: EntryArena, buf: Buffer, length: number, dict: readonly string[], labels: readonly string[]): Promise<Uint8Array> {
    // A small batch is encoded here: a message round trip would cost more than the work. So is one
    // that finds the thread busy with earlier batches: the main thread takes a share of the work
    // when it outruns the thread, rather than batches (and their memory) queueing for it.
    const worker = this.failed || length < this.offloadMinBytes || this.jobs.size >= this.threadBatches ? undefined : (this.worker ?? this.start());
    if (worker === undefined) return this.inline(buf, length, dict, labels);
    // The thread reads the arena's shared memory in place; it stays here until the body is made, so
    // that a job lost with the thread is encoded here instead.
    const shared = arena.shared;
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      this.jobs.set(id, { resolve, reject, shared, retry: () => this.inline(buf, length, dict, labels) });
      if (this.jobs.size === 1) worker.ref();
      worker.postMessage({ id, buf: shared, length, dict, labels });
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.failed = true;
    this.failJobs();
    if (worker) await worker.terminate();
  }

  private inline(buf: Buffer, length: number, dict: readonly string[], labels: readonly string[]): Promise<Uint8Array> {
    try {
      // Compressed at once (compressInline is synchronous): the body's buffer is reused.
      return this.options.compressInline(encodeArenaInline(buf, length, dict, labels, true));
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  private start(): Worker | undefined {
    try {
      const require = createRequire(import.meta.url);
      // A small young generation: what the thread allocates per batch (tables, the dictionary's bytes)
      // dies with the batch; V8's default let it grow to tens of MiB of RSS.
      const worker = new Worker(workerSource(this.nativePath, require.resolve('snappyjs')), { eval: true, execArgv: [], resourceLimits: { maxYoungGenerationSizeMb: 4 } });
      worker.unref();
      worker.on('message', (m: { id: number; out?: Uint8Array; offset?: number; length?: number; error?: string }) => {
        const job = this.jobs.get(m.id);
        if (!job) return;
        this.jobs.delete(m.id);
        if (this.jobs.size === 0) worker.unref();
        if (m.length !== undefined) job.resolve(Buffer.from(new Uint8Array(job.shared, m.offset ?? 0, m.length)));
        else if (m.out !== undefined) job.resolve(m.out);
        // The thread could not (a bug there): this thread tries, and fails the batch only if it cannot either.
        else job.retry().then(job.resolve, job.reject);
      });
      const fail = (): void => {
        if (this.worker !== worker) return;
        this.worker = undefined;
        this.failed = true;
        this.failJobs();
      };
      worker.on('error', fail);
      worker.on('exit', fail);
      this.worker = worker;
      return worker;
    } catch {
      this.failed = true;
      return undefined;
    }
  }

  private failJobs(): void {
    for (const [id, job] of this.jobs) {
      this.jobs.delete(id);
      job.retry().then(job.resolve, job.reject);
    }
  }
}

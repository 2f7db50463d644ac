/**
 * Snappy block compression of request bodies, on a worker thread so that it runs in parallel with
 * the main thread building the next batch. Small bodies are compressed inline, where a message round
 * trip would cost more than the work; if the thread cannot start or dies, compression falls back
 * inline.
 *
 * The native `snappy` package (an optional dependency; its prebuilt binary comes from the npm
 * registry, nothing is downloaded at run time) is used when it loads: measured with `npm run bench`
 * (tail vs tail-snappyjs, forward-packed-1k vs forward-packed-1k-snappyjs) it costs less CPU per GiB
 * and reads the tail workload faster. Where it cannot load, or with FLOKI_SNAPPY=js, snappyjs (pure
 * JavaScript, ~220 MiB/s on typical log batches) does the work.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { compress } from 'snappyjs';

type NativeSnappy = { compressSync(input: Buffer): Buffer };

/** Where the native binding would load from, without loading it; undefined where it is not installed. */
function nativeSnappyPath(): string | undefined {
  try {
    return createRequire(import.meta.url).resolve('snappy');
  } catch {
    return undefined;
  }
}

/** The native snappy binding, or undefined where it is not installed or cannot load on this platform. */
function loadNativeSnappy(): NativeSnappy | undefined {
  try {
    const mod = createRequire(import.meta.url)('snappy') as Partial<NativeSnappy>;
    return typeof mod.compressSync === 'function' ? (mod as NativeSnappy) : undefined;
  } catch {
    return undefined;
  }
}

export interface SnappyCompressorOptions {
  /** true (the default): the native binding when it loads; false: snappyjs (as FLOKI_SNAPPY=js). */
  native?: boolean;
  /** Bodies at least this big go to the thread; smaller ones are compressed inline. */
  offloadMinBytes?: number;
  /** false: always inline (no thread). */
  useWorker?: boolean;
  /** With no body on the thread for this long, it stops and the free slots go (the next body starts it again). Default 30 s. */
  idleStopMs?: number;
}

/** Shared input slots: enough for the bodies in flight to the thread at once. */
const MAX_SLOTS = 4;
const MIN_SLOT_BYTES = 2 * 1024 * 1024;
/** Input bytes compressed on the thread between two collections there. */
const COLLECT_EVERY_BYTES = 8 * 1024 * 1024;

interface Job {
  input: Uint8Array;
  resolve(out: Uint8Array): void;
}

// Plain CommonJS evaluated in the thread: no TypeScript loader needed there, from src/ or dist/.
// The thread uses the native binding when it loads there too, else snappyjs.
const workerSource = (nativePath: string | undefined, snappyjsPath: string): string => `
const { parentPort } = require('node:worker_threads');
// This thread allocates little that V8 sees, so its GC hardly ever runs on its own, and the buffers
// each compression leaves behind (the binding's output, snappyjs's tables) piled up: ~65 MiB of peak
// RSS in the forward benchmark. A young-generation collection every few bodies keeps that flat.
let collect;
try {
  require('node:v8').setFlagsFromString('--expose-gc');
  collect = require('node:vm').runInNewContext('gc');
} catch {}
let sinceCollect = 0;
let compress;
try {
  const native = ${nativePath === undefined ? 'undefined' : `require(${JSON.stringify(nativePath)})`};
  if (native && typeof native.compressSync === 'function') compress = (input) => native.compressSync(input);
} catch {}
if (compress === undefined) compress = require(${JSON.stringify(snappyjsPath)}).compress;
parentPort.on('message', (m) => {
  // A shared slot is read in place: nothing is allocated here that only this thread's GC would free.
  const input = m.slot ? Buffer.from(m.slot, 0, m.length) : Buffer.from(m.input.buffer, m.input.byteOffset, m.input.byteLength);
  let out = compress(input);
  // Transfer only a buffer the result owns outright.
  if (out.byteOffset !== 0 || out.buffer.byteLength !== out.byteLength) out = out.slice();
  parentPort.postMessage({ id: m.id, out }, [out.buffer]);
  sinceCollect += m.length ?? m.input.byteLength;
  if (collect !== undefined && sinceCollect >= ${COLLECT_EVERY_BYTES}) {
    sinceCollect = 0;
    collect({ type: 'minor' });
  }
});
`;

export class SnappyCompressor {
  private worker: Worker | undefined;
  private readonly jobs = new Map<number, Job>();
  private nextId = 0;
  private readonly offloadMinBytes: number;
  private workerFailed: boolean;
  /**
   * The binding, loaded at the first body compressed on this thread (most go to the worker): it
   * brings a Rust runtime with two threads and ~4 MiB of RSS that an idle process does without.
   * `null`: not wanted or not loadable.
   */
  private nativeModule: NativeSnappy | null | undefined;
  private readonly nativePath: string | undefined;
  /** Shared input slots, and whether each is busy (allocated and not yet compressed). */
  private readonly slots = new Map<SharedArrayBuffer, boolean>();
  private readonly idleStopMs: number;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(options: SnappyCompressorOptions = {}) {
    this.offloadMinBytes = options.offloadMinBytes ?? 64 * 1024;
    this.workerFailed = options.useWorker === false;
    this.idleStopMs = options.idleStopMs ?? 30_000;
    const wantNative = options.native ?? process.env.FLOKI_SNAPPY !== 'js';
    this.nativePath = wantNative ? nativeSnappyPath() : undefined;
    if (this.nativePath === undefined) this.nativeModule = null;
  }

  /** Whether the thread runs (it starts at the first body for it, and stops after idleStopMs without one). */
  get threadRunning(): boolean {
    return this.worker !== undefined;
  }

  /** Which implementation compresses: `native` (snappy, where installed) or `js` (snappyjs). */
  get implementation(): 'native' | 'js' {
    return this.nativePath !== undefined && this.nativeModule !== null ? 'native' : 'js';
  }

  private get native(): NativeSnappy | undefined {
    if (this.nativeModule === undefined) this.nativeModule = loadNativeSnappy() ?? null;
    return this.nativeModule ?? undefined;
  }

  /**
   * A buffer of `size` bytes to write a body into before `compress`: for a body the thread will
   * take, a view of a shared slot (the thread reads it in place: no copy, and no garbage piling up
   * on the thread, whose GC runs rarely: that was ~65 MiB of peak RSS in the forward benchmark),
   * else a plain buffer. A slot is busy from here until its compression is done.
   */
  allocate(size: number): Buffer {
    if (size >= this.offloadMinBytes && !this.workerFailed) {
      let slot: SharedArrayBuffer | undefined;
      for (const [s, busy] of this.slots) {
        if (busy || s.byteLength < size) continue;
        slot = s;
        break;
      }
      if (slot === undefined && this.slots.size < MAX_SLOTS) {
        slot = new SharedArrayBuffer(Math.max(size, MIN_SLOT_BYTES));
      } else if (slot === undefined) {
        // Every slot is busy or too small: replace a free one that is too small, else go without.
        for (const [s, busy] of this.slots) {
          if (busy) continue;
          this.slots.delete(s);
          slot = new SharedArrayBuffer(size);
          break;
        }
      }
      if (slot !== undefined) {
        this.slots.set(slot, true);
        return Buffer.from(slot, 0, size);
      }
    }
    return Buffer.allocUnsafe(size);
  }

  /** Gives back a slot from `allocate` that will not be compressed after all (a no-op for other buffers). */
  release(input: Uint8Array): void {
    if (this.slots.has(input.buffer as SharedArrayBuffer)) this.slots.set(input.buffer as SharedArrayBuffer, false);
  }

  compress(input: Uint8Array): Promise<Uint8Array> {
    const slot = this.slots.has(input.buffer as SharedArrayBuffer) ? (input.buffer as SharedArrayBuffer) : undefined;
    const worker = input.byteLength < this.offloadMinBytes || this.workerFailed ? undefined : (this.worker ?? this.startWorker());
    if (worker === undefined) {
      const out = this.compressInline(input);
      this.release(input);
      return Promise.resolve(out);
    }
    if (this.idleTimer !== undefined) {
      clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
    }
    return new Promise((resolve) => {
      const id = this.nextId++;
      this.jobs.set(id, { input, resolve });
      if (this.jobs.size === 1) worker.ref();
      // A shared slot is passed as it is; other input is copied, not transferred, so that it stays
      // ours and a job can be redone inline if the thread dies.
      if (slot !== undefined && input.byteOffset === 0) worker.postMessage({ id, slot, length: input.byteLength });
      else worker.postMessage({ id, input });
    });
  }

  async close(): Promise<void> {
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    const worker = this.worker;
    this.worker = undefined;
    this.workerFailed = true;
    this.finishInline();
    if (worker) await worker.terminate();
  }

  /**
   * On this thread. The native binding's own async form (libuv's pool) was tried: its results piled
   * up as external memory the GC did not see in time (peak RSS doubled in the bench).
   */
  private compressInline(input: Uint8Array): Uint8Array {
    if (this.native === undefined) return compress(input);
    return this.native.compressSync(Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength));
  }

  private armIdleStop(): void {
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.stopIdle(), this.idleStopMs);
    this.idleTimer.unref();
  }

  /** No body for idleStopMs: the thread stops (not a failure: its exit is not this.worker's) and the free slots go. */
  private stopIdle(): void {
    this.idleTimer = undefined;
    const worker = this.worker;
    if (worker === undefined || this.jobs.size > 0) return;
    this.worker = undefined;
    for (const [slot, busy] of this.slots) if (!busy) this.slots.delete(slot);
    void worker.terminate();
  }

  private startWorker(): Worker | undefined {
    try {
      const require = createRequire(import.meta.url);
      // The thread loads the binding itself (and falls back to snappyjs if it cannot).
      const nativePath = this.nativePath;
      // execArgv: [] keeps the parent's loaders (tsx in tests) out of the thread.
      const worker = new Worker(workerSource(nativePath, require.resolve('snappyjs')), { eval: true, execArgv: [] });
      worker.unref();
      worker.on('message', (m: { id: number; out: Uint8Array }) => {
        const job = this.jobs.get(m.id);
        if (!job) return;
        this.jobs.delete(m.id);
        if (this.jobs.size === 0) {
          worker.unref();
          this.armIdleStop();
        }
        this.release(job.input);
        job.resolve(m.out);
      });
      const fail = (): void => {
        if (this.worker !== worker) return;
        this.worker = undefined;
        this.workerFailed = true;
        this.finishInline();
      };
      worker.on('error', fail);
      worker.on('exit', fail);
      this.worker = worker;
      return worker;
    } catch {
      this.workerFailed = true;
      return undefined;
    }
  }

  private finishInline(): void {
    for (const [id, job] of this.jobs) {
      this.jobs.delete(id);
      const out = this.compressInline(job.input);
      this.release(job.input);
      job.resolve(out);
    }
  }
}

/**
 * Prints the JSON of records still in their msgpack bytes (the forward input's packed entries) on a
 * worker thread, ahead of the filters: the event_exporter filter's line, or the Loki line of a plain
 * record, is then ready when the main thread gets to it. In the forward benchmark printing was over a
 * third of the main thread's time; on the thread it runs in parallel with the previous chunk going
 * through the pipeline.
 *
 * A job is one chunk's records. Its bytes are copied into a shared slot, the thread writes the texts
 * into the slot's shared output, and the main thread makes each text a string from there: no
 * structured clone of the data either way, and no garbage piling up on the thread. The thread also
 * captures the event_exporter filter's label fields as it prints (printed-fields.ts), so that the
 * filter does not walk the bytes again on the main thread.
 *
 * A chunk that does not fit a slot, or comes while every slot is busy, is left to the main thread
 * (the filter prints it there, as without the pool); so is every record the thread declines or has
 * no room for. If the thread fails, the pool stops offloading and pending jobs finish with nothing
 * printed.
 */
import { Worker } from 'node:worker_threads';
import type { LogEvent, MsgpackRecord } from '../core/event.js';
import type { TranscodeJob, TranscodeReply } from './transcode-worker.js';
import { RESULT_STRIDE, type PrintedFields } from './printed-fields.js';

/** A record the pool can print: its bytes, and where the text and the captured fields (PRINTED_FIELDS) go. */
export interface PrintableRecord extends MsgpackRecord {
  json: string | undefined;
  printedFields: PrintedFields | undefined;
  printedBytes: number;
}

export interface TranscodePoolOptions {
  /** Jobs in flight at once (one slot each). */
  slots?: number;
  /** A chunk's record bytes must fit this (bigger chunks stay on the main thread). */
  slotBytes?: number;
  /** Fewer records than this are printed on the main thread: the round trip would cost more. */
  minRecords?: number;
  onFailure?(err: unknown): void;
  /** With no job for this long, the thread stops and the slots go (the next job starts it again). Default 30 s. */
  idleStopMs?: number;
}

interface Slot {
  index: number;
  /** The thread has not seen this slot's buffers yet (new, or results grown): the next job sends them. */
  announce: boolean;
  input: SharedArrayBuffer;
  inputView: Buffer;
  output: SharedArrayBuffer;
  outputView: Buffer;
  results: SharedArrayBuffer;
  resultsView: Int32Array;
  busy: boolean;
}

interface Job {
  slot: Slot;
  records: PrintableRecord[];
  resolve(printed: number): void;
}

const DEFAULT_SLOT_BYTES = 2 * 1024 * 1024;
/** An idle thread and its slots are let go after this long without a job: a V8 isolate and up to 4 × 5 MiB of slots. */
const DEFAULT_IDLE_STOP_MS = 30_000;
/** JSON is a little longer than msgpack (quotes, colons, escapes): room for 1.5×. */
const OUTPUT_RATIO = 1.5;

export class TranscodePool {
  private worker: Worker | undefined;
  private failed = false;
  private closed = false;
  private readonly slots: Slot[] = [];
  private readonly jobs = new Map<number, Job>();
  /** The thread's captured values by id (transcode-worker.ts), as it numbered them. */
  private fields: PrintedFields[] = [];
  private nextId = 0;
  private readonly maxSlots: number;
  private readonly slotBytes: number;
  private readonly minRecords: number;
  private readonly idleStopMs: number;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: TranscodePoolOptions = {}) {
    this.maxSlots = options.slots ?? 4;
    this.slotBytes = options.slotBytes ?? DEFAULT_SLOT_BYTES;
    this.minRecords = options.minRecords ?? 16;
    this.idleStopMs = options.idleStopMs ?? DEFAULT_IDLE_STOP_MS;
  }

  /** Whether the thread runs (it starts at the first job, and stops after idleStopMs without one). */
  get threadRunning(): boolean {
    return this.worker !== undefined;
  }

  /**
   * Has the thread print the JSON of the events' msgpack records (setting `json` on them); resolves
   * with how many it printed once done, never rejects. Undefined when there is nothing to do on the thread.
   */
  prepare(events: readonly LogEvent[]): Promise<number> | undefined {
    if (this.failed || this.closed || events.length < this.minRecords) return undefined;
    // The records of one chunk share one buffer, in order: find that run.
    const first = events[0]!.msgpack as PrintableRecord | undefined;
    if (first === undefined) return undefined;
    const buf = first.buf;
    const records: PrintableRecord[] = [];
    for (let i = 0; i < events.length; i++) {
      const r = events[i]!.msgpack as PrintableRecord | undefined;
      if (r === undefined || r.buf !== buf) break;
      records.push(r);
    }
    if (records.length < this.minRecords) return undefined;
    const from = records[0]!.start;
    const to = records[records.length - 1]!.end;
    if (to - from > this.slotBytes) return undefined;
    const slot = this.freeSlot(records.length);
    const worker = slot && (this.worker ?? this.startWorker());
    if (slot === undefined || worker === undefined) return undefined;

    // fill with a buffer is one memcpy; copy (TypedArray set) into shared memory goes byte-safe and
    // took 4-5× as long: ~250 vs ~55 ms per 300 MB of 1 MB chunks fresh from the socket.
    slot.inputView.fill(buf.subarray(from, to), 0, to - from);
    // The records' offsets go in the slot's shared results (the thread reads each pair, then writes
    // its results there): a job message is a few numbers, not a structured clone of buffers.
    const offsets = slot.resultsView;
    for (let i = 0, r = 0; i < records.length; i++, r += RESULT_STRIDE) {
      offsets[r] = records[i]!.start - from;
      offsets[r + 1] = records[i]!.end - from;
    }
    slot.busy = true;
    if (this.idleTimer !== undefined) {
      clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
    }
    const id = this.nextId++;
    return new Promise<number>((resolve) => {
      this.jobs.set(id, { slot, records, resolve });
      if (this.jobs.size === 1) worker.ref();
      const job: TranscodeJob = { id, slot: slot.index, length: to - from, count: records.length };
      if (slot.announce) {
        slot.announce = false;
        job.input = slot.input;
        job.output = slot.output;
        job.results = slot.results;
      }
      worker.postMessage(job);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    const worker = this.worker;
    this.worker = undefined;
    this.finishAll();
    if (worker) await worker.terminate();
  }

  private freeSlot(records: number): Slot | undefined {
    let slot = this.slots.find((s) => !s.busy);
    if (slot === undefined) {
      if (this.slots.length >= this.maxSlots) return undefined;
      const output = new SharedArrayBuffer(Math.ceil(this.slotBytes * OUTPUT_RATIO));
      const input = new SharedArrayBuffer(this.slotBytes);
      const results = new SharedArrayBuffer(0);
      slot = {
        index: this.slots.length,
        announce: true,
        input,
        inputView: Buffer.from(input),
        output,
        outputView: Buffer.from(output),
        results,
        resultsView: new Int32Array(results),
        busy: false,
      };
      this.slots.push(slot);
    }
    if (slot.results.byteLength < 4 * RESULT_STRIDE * records) {
      slot.results = new SharedArrayBuffer(4 * RESULT_STRIDE * Math.max(records, 1024));
      slot.resultsView = new Int32Array(slot.results);
      slot.announce = true;
    }
    return slot;
  }

  private done(reply: TranscodeReply): void {
    let id: number;
    if (typeof reply === 'number') id = reply;
    else {
      id = reply.id;
      if (reply.reset) this.fields = [];
      for (const [n, values] of reply.fields) this.fields[n] = values;
    }
    const job = this.jobs.get(id);
    if (job === undefined) return;
    this.jobs.delete(id);
    if (this.jobs.size === 0) {
      this.worker?.unref();
      this.armIdleStop();
    }
    const { slot, records } = job;
    const results = slot.resultsView;
    const out = slot.outputView;
    const fields = this.fields;
    let start = 0;
    let printed = 0;
    for (let i = 0, r = 0; i < records.length; i++, r += RESULT_STRIDE) {
      const end = results[r]!;
      if (end < 0) continue;
      const record = records[i]!;
      if (results[r + 1] === 1) {
        record.json = out.toString('latin1', start, end);
        record.printedBytes = end - start;
      } else {
        // Invalid UTF-8 becomes U+FFFD: the string's length in UTF-8 may differ from the bytes printed.
        record.json = out.toString('utf8', start, end);
        record.printedBytes = -1;
      }
      const f = results[r + 2]!;
      record.printedFields = f < 0 ? undefined : fields[f];
      start = end;
      printed++;
    }
    slot.busy = false;
    job.resolve(printed);
  }

  private armIdleStop(): void {
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.stopIdle(), this.idleStopMs);
    this.idleTimer.unref();
  }

  /** No job for idleStopMs: the thread stops (not a failure: its exit is not this.worker's) and the slots go. */
  private stopIdle(): void {
    this.idleTimer = undefined;
    const worker = this.worker;
    if (worker === undefined || this.jobs.size > 0 || this.closed) return;
    this.worker = undefined;
    this.slots.length = 0;
    void worker.terminate();
  }

  private startWorker(): Worker | undefined {
    try {
      // From dist/ the thread runs the built .js. Run from src/ (tsx: tests, npm start) it runs the
      // .ts, and needs tsx's loader registered in the thread first: a thread does not inherit it.
      const worker = import.meta.url.endsWith('.ts')
        ? new Worker(
            `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL('./transcode-worker.ts', import.meta.url).href)}); });`,
            { eval: true },
          )
        : new Worker(new URL('./transcode-worker.js', import.meta.url));
      worker.unref();
      worker.on('message', (reply: TranscodeReply) => this.done(reply));
      const fail = (err: unknown): void => {
        if (this.worker !== worker) return;
        this.worker = undefined;
        this.failed = true;
        if (!this.closed) this.options.onFailure?.(err);
        this.finishAll();
      };
      worker.on('error', fail);
      worker.on('exit', (code) => fail(new Error(`the transcode thread exited with code ${code}`)));
      this.worker = worker;
      // A new thread numbers captured values from scratch.
      this.fields = [];
      return worker;
    } catch (err) {
      this.failed = true;
      this.options.onFailure?.(err);
      return undefined;
    }
  }

  /** Jobs that will not come back: their records stay unprinted (the main thread prints them). */
  private finishAll(): void {
    for (const [id, job] of this.jobs) {
      this.jobs.delete(id);
      job.slot.busy = false;
      job.resolve(0);
    }
  }
}

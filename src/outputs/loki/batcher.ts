/**
 * Collects entries into the open batch, grouped by stream label string, and closes it when it reaches
 * `batch_size` bytes or when `batch_wait` has passed since its first entry (Promtail's rule: a batch
 * never waits longer than batch_wait, and never grows past batch_size unless one entry alone is bigger).
 */
import type { LokiEntry } from './encoder.js';
import { addToRuns, type Delivery, type DeliveryRun } from '../../core/delivery.js';

/** Protobuf framing per entry (timestamp message, tags, lengths): an estimate, not exact. */
export const ENTRY_OVERHEAD_BYTES = 24;

export interface ClosedBatch {
  readonly streams: Map<string, LokiEntry[]>;
  readonly entries: number;
  /** Accounted bytes: line bytes + per-entry overhead + label strings. */
  readonly bytes: number;
  /** Whom to tell when these entries are settled (inputs that track delivery). */
  readonly deliveries: DeliveryRun[];
}

export interface BatcherOptions {
  batchSizeBytes: number;
  batchWaitMs: number;
  onClose(batch: ClosedBatch): void;
}

export class Batcher {
  private streams = new Map<string, LokiEntry[]>();
  private entries = 0;
  private bytes = 0;
  private deliveries: DeliveryRun[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.close();
  };

  constructor(private readonly options: BatcherOptions) {}

  /** Bytes in the open batch. */
  get openBytes(): number {
    return this.bytes;
  }

  get openEntries(): number {
    return this.entries;
  }

  /** Add one entry; `lineBytes` is the line's UTF-8 length. Returns the bytes accounted for it. */
  add(labels: string, ts: bigint, line: string, lineBytes: number, delivery?: Delivery): number {
    let list = this.streams.get(labels);
    let size = lineBytes + ENTRY_OVERHEAD_BYTES;
    if (list === undefined) size += labels.length;
    if (this.entries > 0 && this.bytes + size > this.options.batchSizeBytes) {
      this.close();
      list = undefined;
      size = lineBytes + ENTRY_OVERHEAD_BYTES + labels.length;
    }
    if (list === undefined) {
      list = [];
      this.streams.set(labels, list);
    }
    list.push({ ts, line });
    addToRuns(this.deliveries, delivery);
    if (this.entries === 0) this.timer = setTimeout(this.onTimer, this.options.batchWaitMs);
    this.entries++;
    this.bytes += size;
    if (this.bytes >= this.options.batchSizeBytes) this.close();
    return size;
  }

  /** Close the open batch now (stop, or the wait elapsed); nothing happens when it is empty. */
  close(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.entries === 0) return;
    const batch: ClosedBatch = { streams: this.streams, entries: this.entries, bytes: this.bytes, deliveries: this.deliveries };
    this.streams = new Map();
    this.deliveries = [];
    this.entries = 0;
    this.bytes = 0;
    this.options.onClose(batch);
  }

  /** Drop the wait timer (the caller closes or discards the open batch). */
  dispose(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

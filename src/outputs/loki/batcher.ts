/**
 * Collects entries into open batches, one per tenant, grouped by stream label string, and closes a
 * batch when it reaches `batch_size` bytes or when `batch_wait` has passed since its first entry
 * (Promtail's rule: a batch never waits longer than batch_wait, and never grows past batch_size
 * unless one entry alone is bigger). Batches never mix tenants: a tenant is a request header.
 */
import type { LokiEntry } from './encoder.js';
import { addRun, type Settleable, type SettleRun } from './settlement.js';

/** Protobuf framing per entry (timestamp message, tags, lengths): an estimate, not exact. */
export const ENTRY_OVERHEAD_BYTES = 24;
/** Framing per structured metadata pair. */
export const PAIR_OVERHEAD_BYTES = 8;

export interface ClosedBatch {
  /** X-Scope-OrgID, or undefined for a single-tenant Loki. */
  readonly tenant: string | undefined;
  readonly streams: Map<string, LokiEntry[]>;
  readonly entries: number;
  /** Accounted bytes: line bytes + per-entry overhead + label strings + structured metadata. */
  readonly bytes: number;
  /** Whom to tell when these entries are settled (inputs that track delivery, disk segments). */
  readonly runs: SettleRun[];
  /** Date.now() when the first entry was added: the oldest-entry age metric. */
  readonly firstAt: number;
}

export interface BatcherOptions {
  batchSizeBytes: number;
  batchWaitMs: number;
  onClose(batch: ClosedBatch): void;
}

/** Accounted size of an entry's structured metadata. */
export function metadataBytes(sm: Readonly<Record<string, string>> | undefined): number {
  if (sm === undefined) return 0;
  let n = 0;
  for (const name in sm) n += name.length + sm[name]!.length + PAIR_OVERHEAD_BYTES;
  return n;
}

class OpenBatch {
  streams = new Map<string, LokiEntry[]>();
  entries = 0;
  bytes = 0;
  runs: SettleRun[] = [];
  firstAt = 0;
  timer: NodeJS.Timeout | undefined;

  constructor(readonly tenant: string | undefined) {}
}

export class Batcher {
  private readonly open = new Map<string | undefined, OpenBatch>();
  private bytes = 0;
  private entries = 0;

  constructor(private readonly options: BatcherOptions) {}

  /** Bytes in the open batches. */
  get openBytes(): number {
    return this.bytes;
  }

  get openEntries(): number {
    return this.entries;
  }

  /** Date.now() of the oldest entry in an open batch, or undefined. */
  get oldestAt(): number | undefined {
    let oldest: number | undefined;
    for (const b of this.open.values()) if (b.entries > 0 && (oldest === undefined || b.firstAt < oldest)) oldest = b.firstAt;
    return oldest;
  }

  /**
   * Add one entry; `entryBytes` is its line's UTF-8 length plus metadataBytes(sm). Returns the bytes
   * accounted for it.
   */
  add(tenant: string | undefined, labels: string, entry: LokiEntry, entryBytes: number, target?: Settleable): number {
    let batch = this.open.get(tenant);
    if (batch === undefined) {
      batch = new OpenBatch(tenant);
      this.open.set(tenant, batch);
    }
    let list = batch.streams.get(labels);
    let size = entryBytes + ENTRY_OVERHEAD_BYTES;
    if (list === undefined) size += labels.length;
    if (batch.entries > 0 && batch.bytes + size > this.options.batchSizeBytes) {
      this.closeBatch(batch);
      batch = new OpenBatch(tenant);
      this.open.set(tenant, batch);
      list = undefined;
      size = entryBytes + ENTRY_OVERHEAD_BYTES + labels.length;
    }
    if (list === undefined) {
      list = [];
      batch.streams.set(labels, list);
    }
    list.push(entry);
    addRun(batch.runs, target);
    if (batch.entries === 0) {
      batch.firstAt = Date.now();
      const b = batch;
      batch.timer = setTimeout(() => {
        b.timer = undefined;
        this.closeBatch(b);
      }, this.options.batchWaitMs);
    }
    batch.entries++;
    batch.bytes += size;
    this.entries++;
    this.bytes += size;
    if (batch.bytes >= this.options.batchSizeBytes) this.closeBatch(batch);
    return size;
  }

  /** Close every open batch now (stop); nothing happens for empty ones. */
  close(): void {
    for (const batch of [...this.open.values()]) this.closeBatch(batch);
  }

  /** Drop the wait timers (the caller closes or discards the open batches). */
  dispose(): void {
    for (const batch of this.open.values()) {
      if (batch.timer !== undefined) clearTimeout(batch.timer);
      batch.timer = undefined;
    }
  }

  private closeBatch(batch: OpenBatch): void {
    if (batch.timer !== undefined) {
      clearTimeout(batch.timer);
      batch.timer = undefined;
    }
    // A tenant's open batch is forgotten once closed, so tenants taken from records do not pile up.
    this.open.delete(batch.tenant);
    if (batch.entries === 0) return;
    this.entries -= batch.entries;
    this.bytes -= batch.bytes;
    this.options.onClose({ tenant: batch.tenant, streams: batch.streams, entries: batch.entries, bytes: batch.bytes, runs: batch.runs, firstAt: batch.firstAt });
  }
}

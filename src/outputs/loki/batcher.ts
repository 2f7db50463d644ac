/**
 * Collects entries into open batches, grouped by stream label string, and closes a batch when it
 * reaches `batch_size` bytes or when `batch_wait` has passed since its first entry (Promtail's rule:
 * a batch never waits longer than batch_wait, and never grows past batch_size unless one entry alone
 * is bigger).
 *
 * One open batch per tenant (a tenant is a request header) and per shard: with `shards` > 1 (one per
 * worker) each stream always goes to the same shard, by a hash of its labels, as Alloy's queue shards
 * do. The sender never overlaps two batches that share a stream (time order per stream); batches of
 * different shards share none, so `workers` requests can be in flight even when every batch would
 * otherwise hold most streams.
 */
import type { LokiEntry } from './encoder.js';
import { StringCache } from '../../labels/string-cache.js';
import { addRun, type Settleable, type SettleRun } from '../common/settlement.js';

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
  /** Streams are spread over this many open batches per tenant (default 1). */
  shards?: number;
  onClose(batch: ClosedBatch): void;
}

/** FNV-1a over the string's UTF-16 code units: cheap and well spread for label strings. */
function hashLabels(labels: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < labels.length; i++) {
    h ^= labels.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
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

  constructor(
    readonly tenant: string | undefined,
    readonly shard: number,
  ) {}
}

export class Batcher {
  /** Open batches by tenant, one slot per shard. */
  private readonly open = new Map<string | undefined, (OpenBatch | undefined)[]>();
  private readonly shards: number;
  private readonly shardOfLabels = new StringCache<number>(4 * 1024 * 1024);
  private bytes = 0;
  private entries = 0;

  constructor(private readonly options: BatcherOptions) {
    this.shards = Math.max(1, options.shards ?? 1);
  }

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
    for (const slots of this.open.values()) {
      for (const b of slots) if (b !== undefined && b.entries > 0 && (oldest === undefined || b.firstAt < oldest)) oldest = b.firstAt;
    }
    return oldest;
  }

  /**
   * Add one entry; `entryBytes` is its line's UTF-8 length plus metadataBytes(sm). Returns the bytes
   * accounted for it.
   */
  add(tenant: string | undefined, labels: string, entry: LokiEntry, entryBytes: number, target?: Settleable): number {
    const shard = this.shards === 1 ? 0 : this.shardOf(labels);
    let slots = this.open.get(tenant);
    if (slots === undefined) {
      slots = new Array<OpenBatch | undefined>(this.shards);
      this.open.set(tenant, slots);
    }
    let batch = slots[shard];
    if (batch === undefined) {
      batch = new OpenBatch(tenant, shard);
      slots[shard] = batch;
    }
    let list = batch.streams.get(labels);
    let size = entryBytes + ENTRY_OVERHEAD_BYTES;
    if (list === undefined) size += labels.length;
    if (batch.entries > 0 && batch.bytes + size > this.options.batchSizeBytes) {
      this.closeBatch(batch);
      batch = new OpenBatch(tenant, shard);
      slots[shard] = batch;
      this.open.set(tenant, slots);
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
    for (const slots of [...this.open.values()]) for (const batch of slots) if (batch !== undefined) this.closeBatch(batch);
  }

  /** Drop the wait timers (the caller closes or discards the open batches). */
  dispose(): void {
    for (const slots of this.open.values()) {
      for (const batch of slots) {
        if (batch?.timer !== undefined) clearTimeout(batch.timer);
        if (batch) batch.timer = undefined;
      }
    }
  }

  private shardOf(labels: string): number {
    let shard = this.shardOfLabels.get(labels);
    if (shard === undefined) {
      shard = hashLabels(labels) % this.shards;
      this.shardOfLabels.set(labels, shard);
    }
    return shard;
  }

  private closeBatch(batch: OpenBatch): void {
    if (batch.timer !== undefined) {
      clearTimeout(batch.timer);
      batch.timer = undefined;
    }
    // A closed batch leaves its slot; a tenant with no open batch is forgotten, so tenants taken from
    // records do not pile up.
    const slots = this.open.get(batch.tenant);
    if (slots !== undefined && slots[batch.shard] === batch) {
      slots[batch.shard] = undefined;
      if (slots.every((b) => b === undefined)) this.open.delete(batch.tenant);
    }
    if (batch.entries === 0) return;
    this.entries -= batch.entries;
    this.bytes -= batch.bytes;
    this.options.onClose({ tenant: batch.tenant, streams: batch.streams, entries: batch.entries, bytes: batch.bytes, runs: batch.runs, firstAt: batch.firstAt });
  }
}

/**
 * A disk queue of an output's entries (Loki entries, forward entries: the output gives their Avro
 * schema as `entries`): segment files in one folder, each an Avro object container file
 * (avro-container.ts) named `seg-<sequence>.avro`, read back in sequence order.
 *
 * Writing. `append` encodes the entries (avsc) into the pending block at once; the block is written
 * with one positional write and fdatasync'd, and only then do the appends it holds resolve: a caller
 * that awaits `append` knows its entries survive a crash or a power cut. Appends arriving while a
 * block is being synced go into the next block (group commit), so many small appends cost one fsync.
 * A segment is sealed when it reaches `segmentBytes`; the next block starts a new file (created,
 * header written and synced, folder synced).
 *
 * Reading. Blocks are handed out whole, in order. A block written by this process is kept in memory
 * as the entry objects that were appended ("hot") while the hot blocks stay under `cacheBytes`;
 * beyond that, and for everything found on disk at start, the block is read back and decoded.
 *
 * Deleting. Each segment counts its entries as the reader's consumer settles them (delivered, or
 * given up on for good); a sealed segment whose every entry was read and settled is deleted. An
 * active segment whose entries are all settled is sealed and deleted once it is a few seconds old,
 * so an idle output leaves no file behind.
 *
 * Recovery. On open, existing segments are scanned: every whole block is kept, a torn last block
 * (power cut during its write: it was never acknowledged) is cut off, a damaged block in the middle
 * is skipped by the sync marker; each case is logged. Their entries are read before new ones.
 *
 * Limit. The files' total size is `bytes`; the owner pauses its inputs above `limitBytes`
 * (`pause`), or the queue deletes the oldest sealed segment (`drop_oldest`), counting the entries
 * in it that were not yet read.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, truncate, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ContainerFormatError, decodeBlock, encodeBlock, encodeHeader, parseHeader, scanBlocks, SYNC_SIZE, type AvroResolver } from './avro-container.js';
import { avroType, type EntryCodec } from './entry-schema.js';

export type FullAction = 'pause' | 'drop_oldest';
export type StorageDropReason = 'storage_full' | 'corrupt';

export interface SegmentQueueOptions<E> {
  dir: string;
  /** The entries' Avro schema (what the segment files hold). */
  entries: EntryCodec<E>;
  /** A segment is sealed once it is at least this big. */
  segmentBytes: number;
  limitBytes: number;
  fullAction: FullAction;
  /** Most bytes of blocks kept in memory for the reader. */
  cacheBytes: number;
  log: Logger;
  /** Entries lost for good: the oldest segment deleted when full, or a damaged block. */
  onDrop(reason: StorageDropReason, entries: number): void;
  /** Bytes on disk changed, or a new block can be read. */
  onChange(): void;
}

/** Something that counts entries down to their final outcome. */
export interface EntrySink {
  settle(n: number): void;
}

export interface ReadBlock<E> {
  entries: E[];
  /** Settle the block's entries here as they reach their final outcome. */
  segment: EntrySink;
}

/** An append that could not be made durable (disk full, I/O error): the entries are not stored. */
export class StorageWriteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StorageWriteError';
  }
}

/** The folder is used by another running process. */
export class StorageLockedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StorageLockedError';
  }
}

const SEGMENT_NAME = /^seg-(\d{12})\.avro$/;
const segmentName = (seq: number): string => `seg-${String(seq).padStart(12, '0')}.avro`;
/** An active segment with nothing left to send is closed (and deleted) once it is this old. */
const IDLE_SEAL_MS = 5_000;

interface BlockRef {
  offset: number;
  /** Whole block on disk: prefix, records, sync marker. */
  size: number;
  count: number;
  /** Date.now() when it was written (the segment's creation for blocks found at start). */
  at: number;
  /** The entries, while the block is hot. */
  entries: unknown[] | undefined;
}

class Segment implements EntrySink {
  readonly blocks: BlockRef[] = [];
  readIndex = 0;
  entries = 0;
  settled = 0;
  /** Bytes of the file that hold whole blocks. */
  size = 0;
  sealed = false;
  gone = false;
  writer: FileHandle | undefined;
  reader: Promise<FileHandle> | undefined;
  /** For segments written by an older schema. */
  resolver: AvroResolver | undefined;

  constructor(
    private readonly queue: SegmentQueue,
    readonly seq: number,
    readonly path: string,
    readonly sync: Buffer,
    readonly createdAt: number,
  ) {}

  settle(n: number): void {
    if (this.gone) return;
    this.settled += n;
    this.queue.settledIn(this);
  }

  get fullySettled(): boolean {
    return this.readIndex === this.blocks.length && this.settled >= this.entries;
  }
}

interface Waiter {
  resolve(): void;
  reject(err: Error): void;
}

class PendingBlock {
  buf: Buffer;
  pos = 0;
  readonly entries: unknown[] = [];
  readonly waiters: Waiter[] = [];

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }
}

export class SegmentQueue<E = unknown> {
  private readonly segments: Segment[] = [];
  private active: Segment | undefined;
  private pending: PendingBlock;
  private flushing = false;
  private totalBytes = 0;
  private hotBytes = 0;
  private unreadBlocks = 0;
  private nextSeq = 1;
  private closed = false;
  private readonly lockPath: string;
  private lastDropLog = 0;

  private constructor(private readonly options: SegmentQueueOptions<E>) {
    this.pending = new PendingBlock(64 * 1024);
    this.lockPath = join(options.dir, 'LOCK');
  }

  /** Opens (creating) the folder, takes its lock and recovers the segments in it. */
  static async open<E>(options: SegmentQueueOptions<E>): Promise<SegmentQueue<E>> {
    const queue = new SegmentQueue<E>(options);
    await mkdir(options.dir, { recursive: true });
    await queue.lock();
    try {
      await queue.recover();
    } catch (err) {
      await unlink(queue.lockPath).catch(() => undefined);
      throw err;
    }
    return queue;
  }

  /** Bytes of the segment files. */
  get bytes(): number {
    return this.totalBytes;
  }

  /** Bytes of blocks held in memory for the reader. */
  get cachedBytes(): number {
    return this.hotBytes;
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  /** Entries stored and not yet settled. */
  get heldEntries(): number {
    let n = 0;
    for (const s of this.segments) n += s.entries - s.settled;
    return n;
  }

  hasUnread(): boolean {
    return this.unreadBlocks > 0;
  }

  /** Date.now() when the oldest entry not yet settled was written, or undefined when there is none. */
  oldestAt(): number | undefined {
    for (const s of this.segments) {
      if (s.settled >= s.entries) continue;
      // Entries settle roughly in order: the first unsettled one is in the block where the count passes `settled`.
      let seen = 0;
      for (const b of s.blocks) {
        seen += b.count;
        if (seen > s.settled) return b.at;
      }
      return s.createdAt;
    }
    return undefined;
  }

  /** Resolves once the entries are on disk (fsync'd); rejects with StorageWriteError when they cannot be. */
  append(entries: readonly E[]): Promise<void> {
    if (this.closed) return Promise.reject(new StorageWriteError('disk buffer closed'));
    if (entries.length === 0) return Promise.resolve();
    const block = this.pending;
    for (const e of entries) {
      for (;;) {
        const pos = this.options.entries.type.encode(e, block.buf, block.pos);
        if (pos >= 0) {
          block.pos = pos;
          break;
        }
        const grown = Buffer.allocUnsafe(Math.max(block.buf.length * 2, block.pos - pos + 1024));
        block.buf.copy(grown, 0, 0, block.pos);
        block.buf = grown;
      }
      block.entries.push(e);
    }
    return new Promise<void>((resolve, reject) => {
      block.waiters.push({ resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        // setImmediate: appends made in this turn of the event loop share the block and its fsync.
        setImmediate(() => void this.flushLoop());
      }
    });
  }

  /** The next block, in order; undefined when every block was read. */
  async readBlock(): Promise<ReadBlock<E> | undefined> {
    for (;;) {
      let segment: Segment | undefined;
      for (const s of this.segments) {
        if (s.readIndex < s.blocks.length) {
          segment = s;
          break;
        }
      }
      if (segment === undefined) return undefined;
      const block = segment.blocks[segment.readIndex++]!;
      this.unreadBlocks--;
      let entries = block.entries;
      if (entries !== undefined) {
        block.entries = undefined;
        this.hotBytes -= block.size;
      } else {
        try {
          entries = await this.load(segment, block);
        } catch (err) {
          if (segment.gone) {
            // Deleted while being read (drop_oldest): its entries went with it.
            this.options.onDrop('storage_full', block.count);
            continue;
          }
          this.options.log.error(
            { segment: segment.path, offset: block.offset, entries: block.count, err: (err as Error).message },
            `disk buffer: a block of ${segment.path} cannot be read, ${block.count} entries lost`,
          );
          this.options.onDrop('corrupt', block.count);
          segment.settle(block.count);
          continue;
        }
      }
      this.afterRead(segment);
      return { entries: entries as E[], segment };
    }
  }

  /** Writes what is pending, closes the files and releases the folder; segments stay for the next start. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.flushing) await new Promise((resolve) => setTimeout(resolve, 1));
    if (this.pending.entries.length > 0) await this.flushLoop();
    for (const s of [...this.segments]) {
      if (!s.sealed) await this.seal(s);
      await this.closeReader(s);
      // Delivered to the last entry: nothing to send again on the next start.
      if (s.fullySettled) await this.remove(s);
    }
    await unlink(this.lockPath).catch(() => undefined);
  }

  /** A segment's settled count changed. */
  settledIn(segment: Segment): void {
    if (segment.gone || !segment.fullySettled) return;
    if (segment.sealed) void this.remove(segment);
    else if (!this.flushing && this.pending.entries.length === 0 && Date.now() - segment.createdAt >= IDLE_SEAL_MS) {
      void this.seal(segment).then(() => this.settledIn(segment));
    }
  }

  private async lock(): Promise<void> {
    try {
      await writeFile(this.lockPath, String(process.pid), { flag: 'wx' });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const pid = Number((await readFile(this.lockPath, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
      throw new StorageLockedError(`disk buffer ${this.options.dir} is in use by process ${pid}`);
    }
    await writeFile(this.lockPath, String(process.pid));
  }

  private async recover(): Promise<void> {
    const { dir, log } = this.options;
    const names = (await readdir(dir)).filter((n) => SEGMENT_NAME.test(n));
    const seqs = names.map((n) => Number(SEGMENT_NAME.exec(n)![1])).sort((a, b) => a - b);
    let recovered = 0;
    for (const seq of seqs) {
      this.nextSeq = Math.max(this.nextSeq, seq + 1);
      const path = join(dir, segmentName(seq));
      const buf = await readFile(path);
      let header;
      try {
        header = parseHeader(buf);
      } catch (err) {
        if (!(err instanceof ContainerFormatError)) throw err;
        log.error({ segment: path, err: err.message }, 'disk buffer: not a segment file, moved aside as .corrupt');
        await rename(path, `${path}.corrupt`);
        continue;
      }
      if (header === undefined) {
        // Created but its header never made it to disk: it never held an acknowledged entry.
        log.warn({ segment: path, bytes: buf.length }, 'disk buffer: removing a segment with an incomplete header');
        await unlink(path);
        continue;
      }
      const created = Number(header.meta['floki.created']) || Date.now();
      const segment = new Segment(this, seq, path, header.sync, created);
      if (JSON.stringify(header.schema) !== JSON.stringify(this.options.entries.schema)) {
        try {
          segment.resolver = this.options.entries.type.createResolver(avroType(header.schema));
        } catch (err) {
          log.error({ segment: path, err: (err as Error).message }, 'disk buffer: segment written with an incompatible schema, moved aside as .corrupt');
          await rename(path, `${path}.corrupt`);
          continue;
        }
      }
      const scan = scanBlocks(buf, header.end, header.sync);
      for (const region of scan.damaged) {
        const torn = region.offset + region.bytes >= buf.length;
        const lost = region.count ?? 0;
        log.warn(
          { segment: path, offset: region.offset, bytes: region.bytes, entries: region.count },
          torn
            ? `disk buffer: dropped a torn last block of ${path} (${region.bytes} bytes at offset ${region.offset}); every whole block before it is kept`
            : `disk buffer: skipped a damaged block of ${path} (${region.bytes} bytes at offset ${region.offset}, ${lost} entries)`,
        );
        if (lost > 0) this.options.onDrop('corrupt', lost);
      }
      if (scan.end < buf.length) await truncate(path, scan.end);
      for (const b of scan.blocks) {
        segment.blocks.push({ offset: b.offset, size: b.size, count: b.count, at: created, entries: undefined });
        segment.entries += b.count;
      }
      segment.size = scan.end;
      segment.sealed = true;
      if (segment.entries === 0) {
        await unlink(path);
        continue;
      }
      this.segments.push(segment);
      this.totalBytes += segment.size;
      this.unreadBlocks += segment.blocks.length;
      recovered += segment.entries;
    }
    if (this.segments.length > 0) {
      log.info({ dir, segments: this.segments.length, entries: recovered, bytes: this.totalBytes }, `disk buffer: ${recovered} entries from a previous run will be sent first`);
    }
  }

  private async flushLoop(): Promise<void> {
    this.flushing = true;
    try {
      while (this.pending.entries.length > 0) {
        const block = this.pending;
        this.pending = new PendingBlock(Math.min(Math.max(block.pos + 1024, 64 * 1024), 16 * 1024 * 1024));
        await this.writeBlock(block);
      }
    } finally {
      this.flushing = false;
    }
    this.options.onChange();
  }

  private async writeBlock(block: PendingBlock): Promise<void> {
    let segment: Segment | undefined;
    let bytes: Buffer;
    try {
      segment = this.active ?? (await this.createSegment());
      bytes = encodeBlock(block.entries.length, block.buf, block.pos, segment.sync);
      await segment.writer!.write(bytes, 0, bytes.length, segment.size);
      await segment.writer!.datasync();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      this.options.log.error({ dir: this.options.dir, err: String(err) }, `disk buffer: cannot write (${code}); ${block.entries.length} entries not stored`);
      const failure = new StorageWriteError(`disk buffer cannot write: ${code}`);
      for (const w of block.waiters) w.reject(failure);
      // The file may hold part of the block: cut it back, and start the next block in a new file.
      if (segment !== undefined && segment === this.active) {
        await truncate(segment.path, segment.size).catch(() => undefined);
        await this.seal(segment).catch(() => undefined);
      }
      return;
    }
    const hot = this.hotBytes + bytes.length <= this.options.cacheBytes;
    segment.blocks.push({ offset: segment.size, size: bytes.length, count: block.entries.length, at: Date.now(), entries: hot ? block.entries : undefined });
    if (hot) this.hotBytes += bytes.length;
    segment.size += bytes.length;
    segment.entries += block.entries.length;
    this.totalBytes += bytes.length;
    this.unreadBlocks++;
    if (segment.size >= this.options.segmentBytes) {
      await this.seal(segment).catch((err: unknown) => this.options.log.error({ segment: segment.path, err: String(err) }, 'disk buffer: cannot close a full segment'));
    }
    if (this.options.fullAction === 'drop_oldest') this.dropOldest();
    // Only now: the entries are durable, and the limit holds when the writer hears of it.
    for (const w of block.waiters) w.resolve();
    this.options.onChange();
  }

  private async createSegment(): Promise<Segment> {
    const seq = this.nextSeq++;
    const path = join(this.options.dir, segmentName(seq));
    const created = Date.now();
    const segment = new Segment(this, seq, path, randomBytes(SYNC_SIZE), created);
    const header = encodeHeader(this.options.entries.schema, segment.sync, { 'floki.created': String(created) });
    const handle = await open(path, 'wx');
    try {
      await handle.write(header, 0, header.length, 0);
      await handle.datasync();
      await syncFolder(this.options.dir);
    } catch (err) {
      await handle.close().catch(() => undefined);
      await unlink(path).catch(() => undefined);
      throw err;
    }
    segment.writer = handle;
    segment.size = header.length;
    this.totalBytes += header.length;
    this.segments.push(segment);
    this.active = segment;
    return segment;
  }

  private async seal(segment: Segment): Promise<void> {
    if (segment.sealed) return;
    segment.sealed = true;
    if (this.active === segment) this.active = undefined;
    const writer = segment.writer;
    segment.writer = undefined;
    await writer?.close();
  }

  private afterRead(segment: Segment): void {
    if (segment.readIndex === segment.blocks.length && segment.sealed) void this.closeReader(segment);
    this.settledIn(segment);
  }

  private async load(segment: Segment, block: BlockRef): Promise<E[]> {
    segment.reader ??= open(segment.path, 'r');
    const handle = await segment.reader;
    const buf = Buffer.allocUnsafe(block.size);
    const { bytesRead } = await handle.read(buf, 0, block.size, block.offset);
    if (bytesRead !== block.size) throw new ContainerFormatError(`read ${bytesRead} of ${block.size} bytes`);
    return decodeBlock<E>(buf, segment.sync, this.options.entries.type, segment.resolver);
  }

  private async closeReader(segment: Segment): Promise<void> {
    const reader = segment.reader;
    segment.reader = undefined;
    if (reader) await (await reader.catch(() => undefined))?.close().catch(() => undefined);
  }

  private remove(segment: Segment): Promise<void> {
    if (segment.gone) return Promise.resolve();
    segment.gone = true;
    const i = this.segments.indexOf(segment);
    if (i >= 0) this.segments.splice(i, 1);
    this.totalBytes -= segment.size;
    for (let b = segment.readIndex; b < segment.blocks.length; b++) {
      const block = segment.blocks[b]!;
      if (block.entries !== undefined) this.hotBytes -= block.size;
      block.entries = undefined;
      this.unreadBlocks--;
    }
    segment.readIndex = segment.blocks.length;
    void this.closeReader(segment);
    const removed = unlink(segment.path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') this.options.log.error({ segment: segment.path, err: err.message }, 'disk buffer: cannot delete a delivered segment');
    });
    this.options.onChange();
    return removed;
  }

  /** `storage.full_action drop_oldest`: delete the oldest sealed segments until under the limit. */
  private dropOldest(): void {
    while (this.totalBytes > this.options.limitBytes) {
      const oldest = this.segments[0];
      if (oldest === undefined || oldest === this.active) return;
      let unread = 0;
      for (let b = oldest.readIndex; b < oldest.blocks.length; b++) unread += oldest.blocks[b]!.count;
      this.options.onDrop('storage_full', unread);
      const now = Date.now();
      if (now - this.lastDropLog >= 60_000) {
        this.lastDropLog = now;
        this.options.log.warn(
          { segment: oldest.path, entries: unread, limit_bytes: this.options.limitBytes },
          `disk buffer full: deleted the oldest segment with ${unread} entries not yet sent (logged once a minute; see floki_output_dropped_records_total{reason="storage_full"})`,
        );
      }
      void this.remove(oldest);
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** fsync a folder, so a file just created in it survives a power cut. */
async function syncFolder(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // Some filesystems cannot sync a folder; the file's own fsync is the best there is.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

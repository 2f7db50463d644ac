/**
 * The tail input: follows container log files through rotation and restarts.
 *
 * - One read loop reads the files in turns, one block each, so a huge or fast file cannot starve the
 *   others; it stops while an output is full (pause) and resumes when it drains.
 * - Each block's lines become one emit; the file's position moves only past lines whose events the
 *   outputs have settled, and the `db` holds those positions (see settled-offsets.ts, positions-file.ts).
 * - Housekeeping (looking for new files, noticing rotation, truncation and deletion, closing files)
 *   runs one task at a time beside the read loop, woken by inotify and by stat polling.
 */
import { existsSync, open as openCb, stat, type BigIntStats } from 'node:fs';
import { realpath } from 'node:fs/promises';
import type { ResolvedOptions } from '../../config/options.js';
import type { LogEvent } from '../../core/event.js';
import { MAX_RECORD_NESTING } from '../../core/limits.js';
import { BackpressureError, type Input, type InputContext } from '../../core/plugin.js';
import { FileSource, GzipSource, fstatBig, closeFd, type ByteSource } from './byte-source.js';
import { watchPath } from './change-watcher.js';
import { FileDiscovery } from './discovery.js';
import { HEAD_BYTES, hashHead, headMatches, headOfGzip, headOfPath, identityOf, inodeKey, readHead, type FileIdentity } from './file-identity.js';
import { kubernetesMetadataOf } from './kubernetes-path.js';
import { lineDecoderFor } from './line-pipeline.js';
import { LineReader, SharedReadBuffer } from './line-reader.js';
import { TailMetrics } from './metrics.js';
import { resolveTailOptions, tailParsers, type TailOptions, type TailParsers } from './options.js';
import { PositionsFile, type PositionEntry } from './positions-file.js';
import { seedFromFluentdPosFile } from './fluentd-pos-seed.js';
import { locateFile, olderFirst, rotatedSiblings, type RotatedFile } from './rotation.js';
import { SettledOffsets } from './settled-offsets.js';
import { TailedFile } from './tailed-file.js';
import { tagForPath } from './tag.js';

/** How often positions are written when they moved. */
const DB_INTERVAL_MS = 1000;
/** Stat polling: a safety net beside inotify, the only way without it (Fluent Bit's stat watcher: 250 ms). */
const POLL_WITH_INOTIFY_MS = 1000;
const POLL_WITHOUT_INOTIFY_MS = 250;
/** Positions are written at most this often while stop() waits for lines in flight to settle. */
const STOP_SAVE_MS = 20;
/** After a refused emit (a full disk buffer), try again this much later. */
const REFUSED_RETRY_MS = 1000;
/** Room for the CRI header or docker's JSON around a line's content. */
const HEADER_ROOM = 4096;
const DOCKER_ROOM = 100 * 1024;

interface OpenSpec {
  path: string;
  /** What to open: the path itself unless given (a rotated file). */
  realPath?: string;
  gzip?: boolean;
  start: number | 'end';
  /** Saved identity (rotated files found at start). */
  identity?: FileIdentity;
  /** The file now at `path`, as opposed to one rotated away. */
  live: boolean;
  after?: TailedFile;
  /** Not read until released (see TailedFile.held). */
  held?: boolean;
}

export class TailInput implements Input {
  private readonly o: TailOptions;
  private readonly parsers: TailParsers;
  private readonly discovery: FileDiscovery;
  private readonly positions: PositionsFile | undefined;
  private readonly metrics: TailMetrics;
  private readonly shared: SharedReadBuffer;
  private readonly maxPhysicalLine: number;
  private readonly files = new Set<TailedFile>();
  /** Open files by device and inode, so that one file is followed once. */
  private readonly byInode = new Map<string, TailedFile>();
  /** The file now at each followed path. */
  private readonly live = new Map<string, TailedFile>();
  /** Files ignored at start (ignore_older): present at start, so read_from_head applies if they wake. */
  private readonly presentAtStart = new Set<string>();
  private readonly queue: TailedFile[] = [];
  private paused = false;
  private stopped = false;
  /** Bytes of lines emitted and not settled yet (mem_buf_limit). */
  private inFlightBytes = 0;
  private pumping: Promise<void> | undefined;
  private housekeeping: Promise<void> = Promise.resolve();
  private polling = false;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private readonly folderWatches: (() => void)[] = [];
  private scanTimer: NodeJS.Timeout | undefined;
  private lastSaved = '';
  private saving: Promise<void> = Promise.resolve();
  private watchWarned = false;
  private refusedWarnedAt = 0;
  private failedWarnedAt = 0;
  private tooDeepWarned = false;
  /** Started from the positions the input it replaces handed over (a reload), rather than the db. */
  private handedOver = false;
  /** The positions at stop, for the input replacing this one at a reload. */
  private finalPositions: PositionEntry[] | undefined;
  /** The one timer that sends split lines and multiline entries when they fall due, and when. */
  private flushTimer: NodeJS.Timeout | undefined;
  private flushAt = Number.POSITIVE_INFINITY;
  /** Paths tag_regex does not match: not followed, warned about once. */
  private readonly untagged = new Set<string>();
  /** Files present at start (exit_on_eof stops floki once they are all read to their end). */
  private readonly atStart = new Set<TailedFile>();
  private exiting = false;

  constructor(
    options: ResolvedOptions,
    private readonly ctx: InputContext,
  ) {
    this.o = resolveTailOptions(options, ctx.name);
    this.parsers = tailParsers(this.o, ctx.parsers);
    this.discovery = new FileDiscovery(this.o.paths, this.o.excludePaths);
    this.positions = this.o.db ? new PositionsFile(this.o.db, this.o.dbSync) : undefined;
    this.metrics = new TailMetrics(ctx.metrics, ctx.name);
    this.maxPhysicalLine = this.o.maxLineBytes + HEADER_ROOM + (this.o.formats.includes('docker') ? DOCKER_ROOM : 0);
    this.shared = new SharedReadBuffer(this.o.blockBytes + 64 * 1024);
  }

  async start(): Promise<void> {
    for (const { key, because } of this.o.ignored) this.ctx.log.warn({ input: this.ctx.name, key }, `tail: '${key}' has no effect: ${because} (as in Fluent Bit)`);
    let saved: PositionEntry[] = [];
    const handed = handedPositions(this.ctx.handedOver, this.o.paths);
    if (handed !== undefined) {
      // A reload: the input this one replaces followed the same patterns; its positions are the newest.
      saved = handed;
      this.handedOver = true;
    } else if (this.positions) {
      try {
        saved = this.positions.load();
      } catch (err) {
        this.ctx.log.warn({ err: (err as Error).message }, 'tail: starting without the saved positions');
      }
      if (this.o.fluentdPosFile !== undefined && !existsSync(this.positions.path)) saved = await this.fluentdPositions(this.o.fluentdPosFile);
    }
    await this.task(() => this.resumeFiles(saved));
    for (const f of this.files) this.atStart.add(f);
    if (this.o.inotify) {
      for (const folder of this.discovery.baseFolders()) {
        const stop = watchPath(folder, (event) => event === 'rename' && this.scanSoon(), (err) => this.watchFailed(folder, err));
        if (stop) this.folderWatches.push(stop);
      }
    }
    const every = (ms: number, fn: () => void) => this.timers.push(setInterval(fn, ms));
    every(this.o.inotify ? POLL_WITH_INOTIFY_MS : POLL_WITHOUT_INOTIFY_MS, () => this.poll());
    every(this.o.refreshIntervalMs, () => this.scanSoon(0));
    if (this.positions) every(DB_INTERVAL_MS, () => void this.save());
    this.ctx.log.info({ input: this.ctx.name, files: this.files.size, paths: this.o.paths, db: this.o.db }, 'tail: following files');
    this.kick();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.kick();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    for (const t of this.retryTimers) clearTimeout(t);
    clearTimeout(this.scanTimer);
    clearTimeout(this.flushTimer);
    for (const stop of this.folderWatches) stop();
    for (const f of this.files) f.stopWatching?.();
    await this.pumping;
    await this.housekeeping;
    // Without a db nothing would read again what is held (split lines, unfinished multiline entries):
    // send it now. With one, positions stay before it: it is read, and joined, again after a restart.
    if (!this.positions) {
      for (const f of this.files) {
        if (f.closed || f.refused !== undefined || !f.decoder.hasPending) continue;
        f.decoder.flushAll();
        await this.emitFrom(f);
      }
    }
    // Outputs keep sending while inputs stop. The engine waits for inputs only part of its grace, and
    // may stop waiting before lines in flight settle: positions are written at once, then again as
    // lines settle, so that whenever it stops waiting they are as far along as they can be. Lines
    // that settle later (outputs draining) are sent again after the restart. (Nothing is written
    // after stop() returns: a pipeline started next on the same db must not have its positions
    // replaced by this one's.)
    await this.save();
    const deadline = Date.now() + this.ctx.service.graceMs / 2;
    while (Date.now() < deadline && [...this.files].some((f) => f.offsets.outstanding > 0)) {
      await new Promise((resolve) => setTimeout(resolve, STOP_SAVE_MS));
      await this.save();
    }
    // Lines may have settled during the last write.
    this.finalPositions = this.currentPositions();
    await this.save();
    for (const f of this.files) {
      if (!f.closed) await f.source.close();
    }
  }

  /** At a reload, after stop(): the positions (settled lines) for the tail input replacing this one. */
  handOver(): TailHandOver | undefined {
    return this.finalPositions && { paths: this.o.paths, positions: this.finalPositions };
  }

  // ---------------------------------------------------------------------------------------------
  // The read loop

  private enqueue(f: TailedFile): void {
    if (f.queued || f.closed) return;
    f.queued = true;
    this.queue.push(f);
    this.kick();
  }

  private kick(): void {
    if (this.pumping || this.paused || this.stopped || this.queue.length === 0 || this.inFlightBytes >= this.o.memBufLimit) return;
    this.pumping = this.pump()
      .catch((err: unknown) => this.ctx.log.error({ err }, 'tail: read loop failed'))
      .finally(() => {
        this.pumping = undefined;
        this.kick();
      });
  }

  private async pump(): Promise<void> {
    while (!this.paused && !this.stopped && this.inFlightBytes < this.o.memBufLimit) {
      const f = this.queue.shift();
      if (f === undefined) return;
      f.queued = false;
      if (f.closed) continue;
      if (f.held) continue;
      if (f.after !== undefined) {
        // The file this one replaced is still being read: its lines come first. Queued again then.
        if (!f.after.drained) continue;
        f.after = undefined;
      }
      if (f.refused !== undefined && !(await this.send(f, f.refused.events, f.refused.onSettled))) continue;
      f.reading = true;
      let bytes: number;
      try {
        const r = await f.reader.readBlock(f.source, this.shared, this.o.blockBytes, f.decoder);
        bytes = r.bytes;
        if (r.bytes > 0) {
          this.metrics.bytes.inc(r.bytes);
          this.metrics.lines.inc(r.lines);
        }
        if (r.longLines > 0) (this.o.longLines === 'skip' ? this.metrics.longSkipped : this.metrics.longTruncated).inc(r.longLines);
      } catch (err) {
        this.ctx.log.warn({ file: f.realPath, err: (err as Error).message }, 'tail: cannot read file');
        // A corrupt gzip file or an I/O error: it is finished as far as reading goes.
        if (f.gzip) f.deleted = true;
        bytes = 0;
      } finally {
        f.reading = false;
      }
      if (bytes === 0) {
        f.atEnd = true;
        if (this.o.exitOnEof) this.exitIfAllRead();
        if (f.successor !== undefined) this.enqueue(f.successor);
        if (f.deleted || f.rotatedAtMs !== undefined) this.task(() => this.maybeClose(f));
        continue;
      }
      f.atEnd = false;
      if (f.reader.readOffset > f.size) f.size = f.reader.readOffset;
      await this.emitFrom(f);
      this.enqueue(f);
    }
  }

  /** Emits the events decoded from `f` since the last emit, recording where resuming is then safe. */
  private async emitFrom(f: TailedFile): Promise<void> {
    this.countDecoded(f);
    const events = f.decoder.takeEvents();
    const lineOffset = f.reader.lineOffset;
    const safe = f.decoder.safeOffset(lineOffset);
    this.scheduleFlush(f);
    const bytes = Math.max(0, lineOffset - f.emittedOffset);
    f.emittedOffset = lineOffset;
    if (events.length === 0) {
      f.offsets.advance(safe);
      return;
    }
    const settled = f.offsets.add(safe);
    this.inFlightBytes += bytes;
    let done = false;
    await this.send(f, events, () => {
      // Once: a batch the pipeline failed on may have settled its routing guard before it is dropped.
      if (done) return;
      done = true;
      settled();
      this.inFlightBytes -= bytes;
      // Under mem_buf_limit again: read on (resume from a pause of this input's own).
      if (this.inFlightBytes < this.o.memBufLimit && this.inFlightBytes + bytes >= this.o.memBufLimit) this.kick();
    });
  }

  private async send(f: TailedFile, events: LogEvent[], onSettled: () => void): Promise<boolean> {
    try {
      await this.ctx.emit(events, onSettled);
      f.refused = undefined;
      return true;
    } catch (err) {
      if (!(err instanceof BackpressureError)) return this.dropFailed(f, events, onSettled, err);
      // An output cannot take them at all (a full disk): keep them, read nothing more of this file
      // until they are taken, and try again shortly.
      f.refused = { events, onSettled };
      const now = Date.now();
      if (now - this.refusedWarnedAt > 60_000) {
        this.refusedWarnedAt = now;
        this.ctx.log.warn({ err: (err as Error).message, file: f.path }, 'tail: the pipeline refused lines; retrying (logged once a minute)');
      }
      const timer = setTimeout(() => {
        this.retryTimers.delete(timer);
        this.enqueue(f);
      }, REFUSED_RETRY_MS);
      this.retryTimers.add(timer);
      return false;
    }
  }

  /**
   * The pipeline failed on these lines for another reason than a full output (a bug, a record it
   * cannot handle): sending them again would fail again, and hold the file forever. They are dropped,
   * counted and settled, so that the file's next lines are read and its position moves on.
   */
  private dropFailed(f: TailedFile, events: LogEvent[], onSettled: () => void, err: unknown): boolean {
    f.refused = undefined;
    this.ctx.metrics
      .counter('floki_input_emit_failed_records_total', 'Records an input handed to the pipeline that failed on them for another reason than a full output: dropped (tail) or answered 500 (http), never retried forever.')
      .inc({ name: this.ctx.name }, events.length);
    const now = Date.now();
    if (now - this.failedWarnedAt > 60_000) {
      this.failedWarnedAt = now;
      this.ctx.log.error({ err: (err as Error)?.message ?? String(err), file: f.path, records: events.length }, 'tail: the pipeline failed on lines; they are dropped, not retried (logged once a minute; see floki_input_emit_failed_records_total)');
    }
    onSettled();
    return true;
  }

  private countDecoded(f: TailedFile): void {
    const c = f.decoder.counts;
    if (c.partialPieces > 0) this.metrics.partialLines.inc(c.partialPieces);
    if (c.flushed > 0) this.metrics.partialFlushed.inc(c.flushed);
    if (c.truncated > 0) this.metrics.longTruncated.inc(c.truncated);
    if (c.skipped > 0) this.metrics.longSkipped.inc(c.skipped);
    if (c.malformed > 0) this.metrics.malformed.inc(c.malformed);
    if (c.unparsed > 0) this.metrics.unparsed.inc(c.unparsed);
    if (c.timeOutOfRange > 0) this.metrics.timeOutOfRange.inc(c.timeOutOfRange);
    if (c.tooDeep > 0) {
      this.metrics.tooDeep.inc(c.tooDeep);
      if (!this.tooDeepWarned) {
        this.tooDeepWarned = true;
        this.ctx.log.warn({ file: f.path }, `tail: a line nested deeper than ${MAX_RECORD_NESTING} levels was left unparsed and sent as it is (logged once; see floki_input_tail_too_deep_lines_total)`);
      }
    }
    if (c.multilineTruncated > 0) this.metrics.multilineTruncated.inc(c.multilineTruncated);
    c.reset();
  }

  /** Arms the flush timer for when what `f` holds (a split line, a multiline entry) falls due. */
  private scheduleFlush(f: TailedFile): void {
    const due = f.decoder.nextDueMs();
    if (due !== undefined && due < this.flushAt && !this.stopped) this.armFlush(due);
  }

  private armFlush(due: number): void {
    clearTimeout(this.flushTimer);
    this.flushAt = due;
    this.flushTimer = setTimeout(() => this.flushDue(), Math.max(1, Math.ceil(due - performance.now())));
  }

  /** Sends what has waited its time: split lines without their last piece, multiline entries. */
  private flushDue(): void {
    this.flushTimer = undefined;
    this.flushAt = Number.POSITIVE_INFINITY;
    const now = performance.now();
    let next = Number.POSITIVE_INFINITY;
    for (const f of this.files) {
      if (f.closed || !(f.decoder.hasPending || f.decoder.pendingEvents > 0)) continue;
      if (f.refused !== undefined) {
        next = Math.min(next, now + REFUSED_RETRY_MS);
        continue;
      }
      const due = f.decoder.nextDueMs();
      if (due !== undefined && due <= now) f.decoder.flushDue(now);
      if (f.decoder.pendingEvents > 0) void this.emitFrom(f);
      const after = f.decoder.nextDueMs();
      if (after !== undefined) next = Math.min(next, after);
    }
    if (next < this.flushAt && !this.stopped) this.armFlush(next);
  }

  /**
   * exit_on_eof: once every file present at start is read to its end, what they hold is sent and
   * floki is asked to stop, as on SIGTERM (Fluent Bit exits then; it drops unfinished multiline entries,
   * floki sends them).
   */
  private exitIfAllRead(): void {
    if (this.exiting || this.atStart.size === 0) return;
    for (const f of this.atStart) if (!f.closed && !f.atEnd) return;
    this.exiting = true;
    const emits: Promise<void>[] = [];
    for (const f of this.atStart) {
      if (f.closed) continue;
      f.decoder.flushAll();
      emits.push(this.emitFrom(f));
    }
    this.ctx.log.info({ input: this.ctx.name, files: this.atStart.size }, 'tail: every file read to its end (exit_on_eof): stopping');
    void Promise.allSettled(emits).then(() => process.emit('SIGTERM', 'SIGTERM'));
  }

  // ---------------------------------------------------------------------------------------------
  // Housekeeping: one task at a time

  private task(fn: () => Promise<void>): Promise<void> {
    // Once stopping, queued tasks are skipped: stop() waits for the one running.
    const next = this.housekeeping.then(() => (this.stopped ? undefined : fn()));
    this.housekeeping = next.catch((err: unknown) => this.ctx.log.error({ err }, 'tail: housekeeping failed'));
    return this.housekeeping;
  }

  private scanSoon(delayMs = 20): void {
    if (this.scanTimer !== undefined || this.stopped) return;
    this.scanTimer = setTimeout(() => {
      this.scanTimer = undefined;
      void this.task(() => this.scanForNew());
    }, delayMs);
  }

  private poll(): void {
    if (this.polling || this.stopped) return;
    this.polling = true;
    void this.task(async () => {
      try {
        for (const f of [...this.files]) await this.check(f);
      } finally {
        this.polling = false;
      }
    });
  }

  /** The first start after Fluentd: where Fluentd's pos file says each file was. */
  private async fluentdPositions(posFile: string): Promise<PositionEntry[]> {
    try {
      const found = await this.discovery.scan();
      const seeded = await seedFromFluentdPosFile(posFile, found.map((f) => f.path), this.o.readFromHead);
      this.ctx.log.info({ input: this.ctx.name, pos_file: posFile, files: seeded.entries.length, unparsable_lines: seeded.unparsable }, "tail: resuming from Fluentd's pos_file");
      return seeded.entries;
    } catch (err) {
      this.ctx.log.warn({ pos_file: posFile, err: (err as Error).message }, "tail: cannot read Fluentd's pos_file; files start per read_from_head");
      return [];
    }
  }

  /** At start: every file the patterns match, resumed from the db where it knows them. */
  private async resumeFiles(saved: readonly PositionEntry[]): Promise<void> {
    const byPath = new Map<string, PositionEntry[]>();
    for (const e of saved) byPath.set(e.path, [...(byPath.get(e.path) ?? []), e]);
    const used = new Set<PositionEntry>();
    for (const found of await this.discovery.scan()) {
      if (this.byInode.has(inodeKey(found.dev, found.ino))) continue;
      const entries = byPath.get(found.path) ?? [];
      let liveEntry: PositionEntry | undefined;
      for (const e of entries) {
        if (e.dev !== found.dev || e.ino !== found.ino) continue;
        const head = await headOfPath(found.path, e.head_len);
        if (head !== undefined && headMatches({ headLen: e.head_len, headHash: e.head_hash }, head)) liveEntry = e;
      }
      // Files rotated away from this path that the db knows, wherever they are now, oldest first.
      const rotated: { entry?: PositionEntry; file: RotatedFile }[] = [];
      for (const e of entries) {
        used.add(e);
        if (e === liveEntry) continue;
        const file = await locateFile(entryIdentity(e), e.real_path);
        if (file === undefined) {
          this.ctx.log.warn({ file: e.path, last_seen: e.real_path, offset: e.offset }, 'tail: a file in the db is gone; lines after its saved offset, if any, are lost');
        } else if (file.gzip || file.dev !== found.dev || file.ino !== found.ino) {
          rotated.push({ entry: e, file });
        }
      }
      if (rotated.length > 0) {
        // Rotations made after the newest one the db knows were never read: all of them, in order.
        rotated.sort((a, b) => olderFirst(a.file, b.file));
        const siblings = await rotatedSiblings(found.realPath);
        const newest = siblings.findIndex((s) => s.path === rotated[rotated.length - 1]!.file.path);
        for (const s of newest < 0 ? [] : siblings.slice(newest + 1)) {
          if (!rotated.some((r) => r.file.path === s.path) && !(s.dev === found.dev && s.ino === found.ino)) rotated.push({ file: s });
        }
      }
      let previous: TailedFile | undefined;
      for (const r of rotated) {
        this.ctx.log.info({ file: found.path, rotated_to: r.file.path, offset: r.entry?.offset ?? 0 }, 'tail: finishing a file rotated while floki was down');
        previous =
          (await this.open({ path: found.path, realPath: r.file.path, gzip: r.file.gzip, start: r.entry?.offset ?? 0, identity: r.entry ? entryIdentity(r.entry) : undefined, live: false, after: previous })) ??
          previous;
      }
      if (liveEntry === undefined && entries.length === 0 && this.tooOld(found.mtimeMs)) {
        this.presentAtStart.add(inodeKey(found.dev, found.ino));
        continue;
      }
      // A file the db does not know at a path it does appeared after the last save: from its head. A file
      // the input this one replaces did not follow appeared since it last looked: a new file.
      const start = liveEntry ? liveEntry.offset : entries.length > 0 || (this.handedOver ? this.o.readNewFromHead : this.o.readFromHead) ? 0 : 'end';
      await this.open({ path: found.path, start, live: true, after: previous });
    }
    // Files the db knows that no pattern leads to any more (their pod is gone): finish them if they exist.
    for (const e of saved) {
      if (used.has(e)) continue;
      const file = await locateFile(entryIdentity(e), e.real_path);
      if (file === undefined) {
        this.ctx.log.warn({ file: e.path, last_seen: e.real_path, offset: e.offset }, 'tail: a file in the db is gone; lines after its saved offset, if any, are lost');
        continue;
      }
      await this.open({ path: e.path, realPath: file.path, gzip: file.gzip, start: e.offset, identity: entryIdentity(e), live: false });
    }
    await this.save();
  }

  /** New files under the patterns (refresh_interval, or a pattern's folder changed). */
  private async scanForNew(): Promise<void> {
    for (const found of await this.discovery.scan()) {
      const key = inodeKey(found.dev, found.ino);
      if (this.byInode.has(key)) continue;
      const current = this.live.get(found.path);
      if (current !== undefined) {
        // Another file at a followed path: a rotation its watch has not reported yet.
        await this.check(current);
        continue;
      }
      if (this.tooOld(found.mtimeMs)) continue;
      const fromHead = this.presentAtStart.has(key) ? this.o.readFromHead : this.o.readNewFromHead;
      await this.open({ path: found.path, start: fromHead ? 0 : 'end', live: true });
    }
  }

  private tooOld(mtimeMs: number): boolean {
    return this.o.ignoreOlderMs !== undefined && mtimeMs < Date.now() - this.o.ignoreOlderMs;
  }

  private async open(spec: OpenSpec): Promise<TailedFile | undefined> {
    const tag = tagForPath(this.o.tag, spec.path, this.parsers.tagRegex);
    if (tag === undefined) {
      if (!this.untagged.has(spec.path)) {
        this.untagged.add(spec.path);
        this.ctx.log.warn({ file: spec.path, tag_regex: this.o.tagRegex }, 'tail: tag_regex does not match the file\'s path: not following it (as Fluent Bit)');
      }
      return undefined;
    }
    const target = spec.realPath ?? spec.path;
    let source: ByteSource;
    let identity: FileIdentity;
    let size: number;
    let realPath = target;
    if (spec.gzip) {
      if (spec.identity === undefined) {
        const head = await headOfGzip(target, HEAD_BYTES);
        if (head === undefined) return undefined;
        identity = { dev: '0', ino: '0', headLen: head.length, headHash: hashHead(head) };
      } else identity = spec.identity;
      source = new GzipSource(target);
      size = Number.POSITIVE_INFINITY;
    } else {
      let fd: number;
      try {
        fd = await openFd(target);
      } catch (err) {
        this.ctx.log.debug({ file: target, err: (err as Error).message }, 'tail: cannot open file');
        return undefined;
      }
      const st = await fstatBig(fd);
      const key = inodeKey(st.dev, st.ino);
      if (this.byInode.has(key)) {
        await closeFd(fd);
        return undefined;
      }
      identity = spec.identity !== undefined && spec.identity.dev === String(st.dev) && spec.identity.ino === String(st.ino) ? spec.identity : await identityOf(fd, st);
      size = Number(st.size);
      source = new FileSource(fd);
      if (spec.realPath === undefined) realPath = await realpathOr(target);
    }
    let start = spec.start === 'end' ? await this.endOfLastLine(source, size) : spec.start;
    // Shorter than its saved position: truncated while floki was down.
    if (start > size) start = 0;
    const decoder = lineDecoderFor(this.o, this.parsers, { tag, path: spec.path, kubernetes: kubernetesMetadataOf(spec.path) });
    const reader = new LineReader(start, this.maxPhysicalLine, this.o.longLines);
    const f = new TailedFile(spec.path, realPath, identity, source, spec.gzip === true, reader, decoder, start, size);
    if (!spec.live) f.rotatedAtMs = Date.now() - this.o.rotateWaitMs;
    f.held = spec.held === true;
    if (spec.after !== undefined && !spec.after.closed) {
      f.after = spec.after;
      spec.after.successor = f;
    }
    this.files.add(f);
    if (!f.gzip) this.byInode.set(inodeKey(identity.dev, identity.ino), f);
    if (spec.live) this.live.set(spec.path, f);
    if (this.o.inotify && !f.gzip) {
      f.stopWatching = watchPath(
        realPath,
        (event) => {
          this.enqueue(f);
          if (event === 'rename') void this.task(() => this.check(f));
        },
        (err) => this.watchFailed(realPath, err),
      );
    }
    this.metrics.filesOpened.inc();
    this.metrics.filesOpen.inc();
    this.ctx.log.debug({ file: spec.path, real_path: realPath, offset: start, size }, 'tail: following file');
    this.enqueue(f);
    return f;
  }

  /**
   * Where "from the end" starts: after the file's last newline, so that a line being written now is
   * read whole once it is finished, not from its middle.
   */
  private async endOfLastLine(source: ByteSource, size: number): Promise<number> {
    const look = Math.min(size, 64 * 1024);
    if (look === 0) return size;
    const tail = Buffer.allocUnsafe(look);
    const n = await source.read(tail, 0, look, size - look);
    const nl = tail.subarray(0, n).lastIndexOf(0x0a);
    return nl < 0 ? size : size - look + nl + 1;
  }

  /** Looks at one file: growth, truncation, deletion, rotation away from its path; closes it when done. */
  private async check(f: TailedFile): Promise<void> {
    if (f.closed) {
      if (f.offsets.outstanding === 0) this.files.delete(f);
      return;
    }
    const fd = f.fd;
    if (fd !== undefined) {
      const readBefore = f.reader.readOffset;
      let st;
      try {
        st = await fstatBig(fd);
      } catch {
        return;
      }
      if (f.closed) return;
      const size = Number(st.size);
      if (st.nlink === 0n) f.deleted = true;
      // Compare with the offset from before the stat: a read in between would look like a truncation.
      const untouched = !f.reading && f.reader.readOffset === readBefore;
      let truncated = untouched && size < readBefore;
      if (!truncated && untouched && f.identity.headLen > 0 && size !== f.size) {
        // Truncated and written again past the old offset before this look: its first bytes changed.
        const head = await readHead(fd, f.identity.headLen);
        truncated = !f.reading && f.reader.readOffset === readBefore && !headMatches(f.identity, head);
      }
      if (truncated) {
        this.metrics.filesTruncated.inc();
        this.ctx.log.info({ file: f.path, size, offset: readBefore }, 'tail: file truncated, reading it again from its start');
        f.reader.reset(0);
        // What it held will not be continued: sent as it is, at once (the file may stay empty).
        f.decoder.flushAll();
        if (f.decoder.pendingEvents > 0) this.armFlush(performance.now());
        f.offsets = new SettledOffsets(0);
        f.emittedOffset = 0;
        f.identity = await identityOf(fd, st);
        f.atEnd = false;
      } else if (f.identity.headLen < HEAD_BYTES && size > f.identity.headLen) {
        f.identity = await identityOf(fd, st);
      }
      f.size = size;
      if (size > f.reader.readOffset) this.enqueue(f);
      this.metrics.setLag(f.path, f.lag);
    }
    if (this.live.get(f.path) === f) await this.checkPath(f);
    await this.maybeClose(f);
  }

  /** Whether `f` is still the file at its path; if another file took its place, follow that one next. */
  private async checkPath(f: TailedFile): Promise<void> {
    const st = await statOrUndefined(f.path);
    if (st !== undefined && String(st.dev) === f.identity.dev && String(st.ino) === f.identity.ino) return;
    if (this.live.get(f.path) !== f) return;
    f.rotatedAtMs = Date.now();
    this.live.delete(f.path);
    // Read once more, ahead of the file that replaced it: lines written just before the rename (or late,
    // after it) may not have been there for the last read, which left it at its end.
    this.enqueue(f);
    this.metrics.filesRotated.inc();
    this.ctx.log.debug({ file: f.path, real_path: f.realPath }, 'tail: file rotated away from its path');
    if (st !== undefined && st.isFile() && !this.discovery.excluded(f.path) && !this.byInode.has(inodeKey(st.dev, st.ino))) {
      // The new file started after the rotation: all of it is new. (What is opened is whatever is at the
      // path by then, which may be a later file than the one just stat'ed.)
      // Held until the files in between are found: otherwise it could be read while the folder is listed.
      const live = await this.open({ path: f.path, start: 0, live: true, after: f, held: true });
      if (live === undefined) return;
      try {
        // Files that were at the path after `f` and were rotated away again before floki followed them (a
        // burst of rotations on a busy node): each from its start, in order, between `f` and the new file.
        let previous: TailedFile = f;
        for (const r of await this.rotatedSince(f, live.identity.dev, live.identity.ino)) {
          this.ctx.log.info({ file: f.path, rotated_to: r.path }, 'tail: reading a file that was rotated away before it was followed');
          this.metrics.filesRotated.inc();
          previous = (await this.open({ path: f.path, realPath: r.path, start: 0, live: false, after: previous })) ?? previous;
        }
        if (previous !== f && !previous.closed) {
          live.after = previous;
          previous.successor = live;
        }
      } finally {
        live.held = false;
        this.enqueue(live);
      }
    }
  }

  /**
   * Rotated siblings of `f` newer than it (kubelet's `0.log.<time>`), not compressed (kubelet compresses
   * only older rotations), that no followed file is and that are not the file now at the path.
   */
  private async rotatedSince(f: TailedFile, liveDev: string, liveIno: string): Promise<RotatedFile[]> {
    const siblings = await rotatedSiblings(f.realPath);
    const own = siblings.findIndex((s) => !s.gzip && s.dev === f.identity.dev && s.ino === f.identity.ino);
    if (own < 0) return [];
    return siblings.slice(own + 1).filter((s) => !s.gzip && !(s.dev === liveDev && s.ino === liveIno) && !this.byInode.has(inodeKey(s.dev, s.ino)));
  }

  /** Closes a file nobody writes any more once it is read to its end. */
  private async maybeClose(f: TailedFile): Promise<void> {
    if (f.closed || f.reading || f.refused !== undefined) return;
    const done = f.deleted || f.gzip || (f.rotatedAtMs !== undefined && Date.now() - f.rotatedAtMs >= this.o.rotateWaitMs);
    if (!done) return;
    if (f.gzip ? !f.atEnd : f.reader.readOffset < f.size || !f.atEnd) {
      this.enqueue(f);
      return;
    }
    f.closed = true;
    if (this.live.get(f.path) === f) this.live.delete(f.path);
    // It will not grow: its unfinished last line and split lines are final.
    f.reader.takeUnfinished(f.decoder);
    f.decoder.flushAll();
    await this.emitFrom(f);
    f.stopWatching?.();
    const key = inodeKey(f.identity.dev, f.identity.ino);
    if (this.byInode.get(key) === f) this.byInode.delete(key);
    await f.source.close();
    this.metrics.filesClosed.inc();
    this.metrics.filesOpen.dec();
    this.metrics.removeLag(f.path);
    this.ctx.log.debug({ file: f.path, real_path: f.realPath, offset: f.reader.readOffset }, 'tail: file closed');
    if (f.successor !== undefined) this.enqueue(f.successor);
    if (f.offsets.outstanding === 0) this.files.delete(f);
  }

  private watchFailed(path: string, err: Error): void {
    if (this.watchWarned) return;
    this.watchWarned = true;
    this.ctx.log.warn({ path, err: err.message }, 'tail: cannot watch with inotify; stat polling finds changes instead (logged once)');
  }

  // ---------------------------------------------------------------------------------------------
  // Positions

  private currentPositions(): PositionEntry[] {
    const entries: PositionEntry[] = [];
    for (const f of this.files) {
      if (f.closed && f.offsets.outstanding === 0) this.files.delete(f);
      else entries.push(f.position());
    }
    return entries;
  }

  private save(): Promise<void> {
    if (!this.positions) return Promise.resolve();
    const entries = this.currentPositions();
    const text = JSON.stringify(entries);
    if (text === this.lastSaved) return this.saving;
    this.lastSaved = text;
    this.saving = this.positions.save(entries).then(
      () => this.metrics.positionsWrites.inc(),
      (err: unknown) => {
        this.lastSaved = '';
        this.ctx.log.warn({ db: this.o.db, err: (err as Error).message }, 'tail: cannot write positions');
      },
    );
    return this.saving;
  }
}

/** What a tail input leaves at a reload: its patterns and the positions a db would hold. */
export interface TailHandOver {
  paths: readonly string[];
  positions: PositionEntry[];
}

/** The handed-over positions, when they come from a tail input that followed the same patterns. */
function handedPositions(handed: unknown, paths: readonly string[]): PositionEntry[] | undefined {
  if (typeof handed !== 'object' || handed === null) return undefined;
  const h = handed as Partial<TailHandOver>;
  if (!Array.isArray(h.paths) || !Array.isArray(h.positions) || h.paths.join('\n') !== paths.join('\n')) return undefined;
  return h.positions;
}

function entryIdentity(e: PositionEntry): FileIdentity {
  return { dev: e.dev, ino: e.ino, headLen: e.head_len, headHash: e.head_hash };
}

function openFd(path: string): Promise<number> {
  return new Promise((resolve, reject) => openCb(path, 'r', (err, fd) => (err ? reject(err) : resolve(fd))));
}

function statOrUndefined(path: string): Promise<BigIntStats | undefined> {
  return new Promise((resolve) => stat(path, { bigint: true }, (err, st) => resolve(err ? undefined : st)));
}

function realpathOr(path: string): Promise<string> {
  return realpath(path).catch(() => path);
}

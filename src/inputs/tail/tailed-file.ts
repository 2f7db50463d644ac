/**
 * One followed file: where its bytes come from, how far it is read, what is settled, and where it
 * stands in its life (live at its path, rotated away, deleted, closed).
 */
import type { ByteSource } from './byte-source.js';
import type { FileIdentity } from './file-identity.js';
import type { LineDecoder } from './line-decoder.js';
import type { LineReader } from './line-reader.js';
import type { PositionEntry } from './positions-file.js';
import { SettledOffsets } from './settled-offsets.js';
import type { LogEvent } from '../../core/event.js';

export class TailedFile {
  /** Settled offsets of the current content; replaced when the file is truncated. */
  offsets: SettledOffsets;
  /** Line offset at the last emit: the bytes between it and the next emit's are that emit's. */
  emittedOffset: number;
  /** Size at the last look (decompressed bytes are unknown for gzip: Infinity until the end). */
  size: number;
  /** The last read found nothing more. */
  atEnd = false;
  /** Not read until the files rotated away before it are found and put ahead of it. */
  held = false;
  /** A read of this file is in progress. */
  reading = false;
  /** In the read queue. */
  queued = false;
  /** When its path stopped leading to it (renamed, replaced or removed); undefined while it is live. */
  rotatedAtMs: number | undefined;
  /** Its last link is gone: nobody can find it, and it is closed once read to its end. */
  deleted = false;
  /** Source closed; stays in the db until its last lines are settled. */
  closed = false;
  /** Read only once this file has been read to its end (the file it replaced at the same path). */
  after: TailedFile | undefined;
  /** The file waiting for this one to be read to its end. */
  successor: TailedFile | undefined;
  /** Events the pipeline refused (a full disk buffer): sent again before anything else is read. */
  refused: { events: LogEvent[]; onSettled: () => void } | undefined;
  stopWatching: (() => void) | undefined;

  constructor(
    /** The path it was found under: tag and metadata come from it. */
    readonly path: string,
    /** Where it was last known to be (symlinks resolved; its rotated name once known). */
    public realPath: string,
    public identity: FileIdentity,
    readonly source: ByteSource,
    readonly gzip: boolean,
    readonly reader: LineReader,
    readonly decoder: LineDecoder,
    startOffset: number,
    size: number,
  ) {
    this.offsets = new SettledOffsets(startOffset);
    this.emittedOffset = startOffset;
    this.size = size;
  }

  get fd(): number | undefined {
    return (this.source as { fd?: number }).fd;
  }

  /** Read to its end and no longer live: the file that replaced it may be read. */
  get drained(): boolean {
    return this.closed || (this.atEnd && this.rotatedAtMs !== undefined);
  }

  /** Bytes not read yet, as far as is known. */
  get lag(): number {
    return Number.isFinite(this.size) ? Math.max(0, this.size - this.reader.readOffset) : 0;
  }

  position(): PositionEntry {
    return {
      path: this.path,
      real_path: this.realPath,
      dev: this.identity.dev,
      ino: this.identity.ino,
      head_len: this.identity.headLen,
      head_hash: this.identity.headHash,
      offset: this.offsets.committed,
    };
  }
}

/**
 * The tail input's `db`: for each followed file, its identity and the offset up to which its lines are
 * settled (delivered, or persisted by a disk-buffered output). Fluent Bit keeps this in SQLite; floki
 * writes one small JSON document, replaced atomically (temporary file, rename) so that a crash at any
 * moment leaves either the old or the new positions, never a torn file.
 *
 * `db.sync` says how far it goes for a power loss, as SQLite's synchronous pragma does for Fluent Bit:
 * `off` syncs nothing (the file may be lost or empty after a power loss: lines are read again per
 * read_from_head), `normal` syncs the file before the rename (a power loss may undo the last rename:
 * lines since the previous write are sent again), `full` and `extra` also sync the folder.
 */
import { existsSync, readFileSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { DbSync } from './options.js';

export interface PositionEntry {
  /** The path the file was found under (as `path` matched it): its tag and kubernetes metadata. */
  path: string;
  /** Where the file was last seen (a symlink's target, or its rotated name). */
  real_path: string;
  dev: string;
  ino: string;
  head_len: number;
  head_hash: string;
  /** Bytes up to which every line is settled (decompressed bytes for a gzip file). */
  offset: number;
}

interface PositionsDocument {
  version: 1;
  files: readonly PositionEntry[];
}

export class PositionsFileError extends Error {}

let instances = 0;

export class PositionsFile {
  private writing: Promise<void> = Promise.resolve();
  private readonly tmp: string;

  constructor(
    readonly path: string,
    private readonly sync: DbSync = 'full',
  ) {
    // One name per instance: a pipeline stopping and the one replacing it never write the same file.
    this.tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${++instances}`);
  }

  /** The saved entries; none when there is no file yet. Throws PositionsFileError on a file it cannot read. */
  load(): PositionEntry[] {
    if (!existsSync(this.path)) return [];
    let doc: PositionsDocument;
    try {
      doc = JSON.parse(readFileSync(this.path, 'utf8')) as PositionsDocument;
    } catch (err) {
      throw new PositionsFileError(`db ${this.path}: cannot read positions: ${(err as Error).message}`);
    }
    if (doc?.version !== 1 || !Array.isArray(doc.files)) throw new PositionsFileError(`db ${this.path}: not a floki tail positions file`);
    return doc.files.filter(
      (e) =>
        typeof e.path === 'string' &&
        typeof e.real_path === 'string' &&
        typeof e.dev === 'string' &&
        typeof e.ino === 'string' &&
        Number.isInteger(e.head_len) &&
        typeof e.head_hash === 'string' &&
        Number.isInteger(e.offset) &&
        e.offset >= 0,
    );
  }

  /** Replaces the file with `entries`; saves run one after another, never interleaved. */
  save(entries: readonly PositionEntry[]): Promise<void> {
    const text = JSON.stringify({ version: 1, files: entries } satisfies PositionsDocument);
    const next = this.writing.then(() => this.write(text));
    this.writing = next.catch(() => undefined);
    return next;
  }

  private async write(text: string): Promise<void> {
    const handle = await open(this.tmp, 'w', 0o644);
    try {
      await handle.writeFile(text);
      if (this.sync !== 'off') await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await rename(this.tmp, this.path);
    } catch (err) {
      await unlink(this.tmp).catch(() => undefined);
      throw err;
    }
    // The rename is durable only once the folder is synced.
    if (this.sync !== 'full' && this.sync !== 'extra') return;
    const dir = await open(dirname(this.path), 'r');
    try {
      await dir.sync();
    } catch {
      // Some filesystems refuse fsync on a folder; the rename itself was atomic.
    } finally {
      await dir.close();
    }
  }
}

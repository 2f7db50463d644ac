/**
 * The first start after Fluentd: floki's positions (`db`) seeded from Fluentd's `pos_file`, so each
 * file resumes exactly where Fluentd stopped (fluentd-pos-file.ts says where Fluentd itself would
 * resume). Used only while floki's own db does not exist yet; Fluentd's file is never written.
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import { HEAD_BYTES, hashHead, headOfPath } from './file-identity.js';
import { fluentdPosEntryFor, fluentdResumeOffset, parseFluentdPosFile } from './fluentd-pos-file.js';
import type { PositionEntry } from './positions-file.js';

export interface SeedResult {
  entries: PositionEntry[];
  /** Lines of the pos file that were not Fluentd's format (skipped, as Fluentd skips them). */
  unparsable: number;
}

/**
 * Positions for the files `paths` (as the patterns find them) from Fluentd's pos file. A file Fluentd
 * knew with the same inode resumes at its position (from 0 if it is now shorter: truncated); one
 * replaced since (another inode) from 0; one it did not know is left out (floki's read_from_head
 * applies, as Fluentd's does).
 */
export async function seedFromFluentdPosFile(posFile: string, paths: readonly string[], readFromHead: boolean): Promise<SeedResult> {
  let text: string;
  try {
    text = await readFile(posFile, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], unparsable: 0 };
    throw err;
  }
  const pos = parseFluentdPosFile(text);
  const entries: PositionEntry[] = [];
  for (const path of paths) {
    let st;
    try {
      st = await stat(path, { bigint: true });
    } catch {
      continue;
    }
    if (!st.isFile()) continue;
    const entry = fluentdPosEntryFor(pos, { path, ino: st.ino });
    if (entry === undefined) continue;
    const offset = fluentdResumeOffset(entry, { ino: st.ino, size: st.size }, readFromHead);
    const headLen = Number(st.size < BigInt(HEAD_BYTES) ? st.size : BigInt(HEAD_BYTES));
    const head = await headOfPath(path, headLen);
    if (head === undefined) continue;
    entries.push({
      path,
      real_path: await realpath(path).catch(() => path),
      dev: String(st.dev),
      ino: String(st.ino),
      head_len: head.length,
      head_hash: hashHead(head),
      offset: Number(offset),
    });
  }
  return { entries, unparsable: pos.unparsable.length };
}

/**
 * Rotated files: kubelet renames `0.log` to `0.log.<YYYYMMDD-hhmmss>` and later gzips it
 * (`….gz`); logrotate uses `name.1`, `name.2.gz`. A file that was rotated while floki was down is
 * found again among its siblings by identity (device, inode and first bytes; the first decompressed
 * bytes for a gzip file, which has a new inode).
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { headMatches, headOfGzip, headOfPath, type FileIdentity } from './file-identity.js';

const ROTATED = /^(.+)\.(\d[0-9-]*)(\.gz)?$/;

/** The live file's name for a rotated name (`0.log.20230810-082034.gz` → `0.log`), or the name itself. */
export function rotationBase(name: string): string {
  const m = ROTATED.exec(name);
  return m ? m[1]! : name;
}

export interface RotatedFile {
  path: string;
  gzip: boolean;
  mtimeMs: number;
  dev: string;
  ino: string;
  /** The rotation suffix (`20230810-082034`, `1`). */
  suffix?: string;
}

/**
 * Oldest first. kubelet's suffixes are times (`20230810-082034`: in string order); logrotate's are
 * counts (`.1` is the newest); otherwise modification times. Not modification times alone: gzipping
 * an older rotation gives it a newer one.
 */
export function olderFirst(a: RotatedFile, b: RotatedFile): number {
  const x = a.suffix;
  const y = b.suffix;
  if (x !== undefined && y !== undefined) {
    const timeLike = (s: string) => s.length >= 8;
    if (timeLike(x) && timeLike(y)) return x < y ? -1 : x > y ? 1 : 0;
    if (!timeLike(x) && !timeLike(y) && /^\d+$/.test(x) && /^\d+$/.test(y)) return Number(y) - Number(x);
  }
  return a.mtimeMs - b.mtimeMs || (a.path < b.path ? -1 : 1);
}

/** Rotated siblings of the live file `livePath` (same folder), oldest first. */
export async function rotatedSiblings(livePath: string): Promise<RotatedFile[]> {
  const dir = dirname(livePath);
  const base = rotationBase(basename(livePath));
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const out: RotatedFile[] = [];
  for (const name of names) {
    const m = ROTATED.exec(name);
    if (!m || m[1] !== base) continue;
    const path = join(dir, name);
    try {
      const st = await stat(path, { bigint: true });
      if (!st.isFile()) continue;
      out.push({ path, gzip: m[3] !== undefined, mtimeMs: Number(st.mtimeMs), dev: String(st.dev), ino: String(st.ino), suffix: m[2] });
    } catch {
      // Removed while listing (kubelet deletes the oldest rotations).
    }
  }
  return out.sort(olderFirst);
}

/** Whether `candidate` is the file `saved` identifies. */
export async function isSameFile(saved: FileIdentity, candidate: RotatedFile): Promise<boolean> {
  if (candidate.gzip) {
    // A compressed copy has its own inode: only its content tells. A file saved before any byte was
    // read has nothing to compare, and is not looked for among compressed files.
    if (saved.headLen === 0) return false;
    const head = await headOfGzip(candidate.path, saved.headLen);
    return head !== undefined && headMatches(saved, head);
  }
  if (candidate.dev !== saved.dev || candidate.ino !== saved.ino) return false;
  const head = await headOfPath(candidate.path, Math.max(saved.headLen, 1));
  return head !== undefined && headMatches(saved, head);
}

/**
 * Finds the file `saved` identifies, last seen at `lastPath`: there still, or renamed (and maybe
 * compressed) next to it. Undefined when it is gone.
 */
export async function locateFile(saved: FileIdentity, lastPath: string): Promise<RotatedFile | undefined> {
  try {
    const st = await stat(lastPath, { bigint: true });
    const here: RotatedFile = { path: lastPath, gzip: lastPath.endsWith('.gz'), mtimeMs: Number(st.mtimeMs), dev: String(st.dev), ino: String(st.ino), suffix: ROTATED.exec(basename(lastPath))?.[2] };
    if (st.isFile() && (await isSameFile(saved, here))) return here;
  } catch {
    // Not there any more: look among the rotations.
  }
  const live = join(dirname(lastPath), rotationBase(basename(lastPath)));
  for (const candidate of await rotatedSiblings(live)) {
    if (candidate.path !== lastPath && (await isSameFile(saved, candidate))) return candidate;
  }
  return undefined;
}

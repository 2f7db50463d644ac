/**
 * Fluentd's in_tail `pos_file`, read so that a switch from Fluentd to floki resumes each file where
 * Fluentd stopped (lib/fluent/plugin/in_tail/position_file.rb and in_tail.rb). floki keeps its own
 * positions afterwards (positions-file.ts); it does not write Fluentd's file.
 *
 * The format, one line per file: `path TAB position TAB inode`, the numbers in hexadecimal (Fluentd
 * writes 16 digits, `%016x`, but reads any number of them), anything after the inode ignored. Fluentd
 * reads it as it compacts it on start:
 * - a line that does not match is skipped (Fluentd logs "Unparsable line in pos_file");
 * - position `ffffffffffffffff` marks a file Fluentd stopped watching: the line is dropped;
 * - a path (or, with `follow_inodes`, an inode) given twice keeps its last line, in the place of its first.
 */

/** Fluentd's position of a file it no longer watches. */
export const UNWATCHED_POSITION = 0xffffffffffffffffn;

export interface FluentdPosEntry {
  path: string;
  /** Byte offset up to which Fluentd had read the file. */
  pos: bigint;
  ino: bigint;
  /** 1-based line of the pos file the entry comes from. */
  line: number;
}

export interface FluentdPosFile {
  entries: FluentdPosEntry[];
  /** Lines that do not match the format, skipped as Fluentd skips them. */
  unparsable: { line: number; text: string }[];
}

const ENTRY = /^([^\t\n]+)\t([0-9a-fA-F]+)\t([0-9a-fA-F]+)/;

/** Reads a pos file's content. `followInodes`: Fluentd's `follow_inodes`, entries keyed by inode. */
export function parseFluentdPosFile(content: Buffer | string, followInodes = false): FluentdPosFile {
  const text = typeof content === 'string' ? content : content.toString('utf8');
  const byKey = new Map<string | bigint, FluentdPosEntry>();
  const unparsable: FluentdPosFile['unparsable'] = [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  lines.forEach((raw, i) => {
    const m = ENTRY.exec(raw);
    if (m === null) {
      unparsable.push({ line: i + 1, text: raw });
      return;
    }
    const entry: FluentdPosEntry = { path: m[1]!, pos: BigInt(`0x${m[2]}`), ino: BigInt(`0x${m[3]}`), line: i + 1 };
    if (entry.pos === UNWATCHED_POSITION) return;
    // A Map keeps a re-set key in its first place, as a Ruby Hash does.
    byKey.set(followInodes ? entry.ino : entry.path, entry);
  });
  return { entries: [...byKey.values()], unparsable };
}

/** The entry Fluentd would use for a file found at `path` with inode `ino`. */
export function fluentdPosEntryFor(pos: FluentdPosFile, file: { path: string; ino: bigint }, followInodes = false): FluentdPosEntry | undefined {
  return pos.entries.find((e) => (followInodes ? e.ino === file.ino : e.path === file.path));
}

/**
 * Where Fluentd would start reading a file it finds on start (in_tail.rb `on_rotate`, first call):
 * - its entry has the file's inode: at the saved position, or at 0 if the file is now shorter
 *   (truncated);
 * - its entry has another inode: the file was replaced (rotated) while Fluentd was down, so the new
 *   file is read from 0;
 * - no entry, or inode 0 (an entry Fluentd made but never filled): from the head with
 *   `read_from_head`, else from the end.
 */
export function fluentdResumeOffset(entry: FluentdPosEntry | undefined, file: { ino: bigint; size: bigint }, readFromHead: boolean): bigint {
  if (entry === undefined || entry.ino === 0n) return readFromHead ? 0n : file.size;
  if (entry.ino !== file.ino) return 0n;
  return file.size < entry.pos ? 0n : entry.pos;
}

/**
 * The tail input's options, named as Fluent Bit's in_tail names them; where floki's default differs,
 * the description says why.
 */
import { OptionValueError, type OptionSpec, type ResolvedOptions } from '../../config/options.js';
import { LOG_FORMATS, type LogFormat } from './line-decoder.js';
import type { LongLineAction } from './partial-line-joiner.js';

export const tailOptions: readonly OptionSpec[] = [
  { name: 'path', type: 'list', required: true, description: 'Files to follow: shell patterns (`*`, `?`, `[…]`, `{a,b}`, `**`), comma-separated, e.g. `/var/log/containers/*.log`.' },
  { name: 'exclude_path', type: 'list', default: [], description: 'Patterns of files not to follow, matched against the whole path (`*` also crosses `/`), e.g. `*.gz,*_kube-system_*`.' },
  {
    name: 'tag',
    type: 'string',
    description: "Tag of the file's records; a `*` is replaced by the file's path with `/` turned into `.` (`kube.*` gives `kube.var.log.containers.<file>`). Default: the instance name (`tail.0`).",
  },
  { name: 'refresh_interval', type: 'duration', default: '60s', description: 'How often the path patterns are looked up again for new files (new files in the pattern\'s own folder are also noticed at once with inotify_watcher).' },
  { name: 'read_from_head', type: 'bool', default: false, description: 'Read files present at start (and not in the db) from their beginning rather than their end.' },
  { name: 'read_newly_discovered_files_from_head', type: 'bool', default: true, description: 'Read files that appear after start from their beginning.' },
  { name: 'ignore_older', type: 'duration', description: 'Do not follow files last modified longer ago than this (e.g. `1d`). Default: follow all.' },
  {
    name: 'db',
    type: 'string',
    description:
      'Positions file: each followed file\'s identity (device, inode, hash of its first bytes) and the offset up to which its lines are delivered. JSON, replaced atomically. Without it, a restart starts over per read_from_head.',
  },
  {
    name: 'multiline.parser',
    type: 'list',
    default: [],
    description: 'Container log formats, tried in order: `cri` (containerd, CRI-O) and/or `docker` (json-file). Their split lines are joined per stream. Without it each line is sent as it is.',
  },
  {
    name: 'buffer_chunk_size',
    type: 'size',
    default: '256K',
    description: 'Bytes read from a file per turn; files are read in turns, one block each. Larger than Fluent Bit\'s 32k: each read is a round trip to a thread.',
  },
  {
    name: 'buffer_max_size',
    type: 'size',
    default: '1M',
    description: 'Longest line, after joining split lines; a longer one is truncated or skipped (truncate_long_lines, skip_long_lines) and counted. Memory per file stays under this.',
  },
  {
    name: 'mem_buf_limit',
    type: 'size',
    default: '4M',
    description:
      'Bytes of lines read and not yet delivered (or persisted by a disk buffer) above which reading pauses until they are: the files are the buffer, so memory stays low whatever the outputs\' own limits (Fluent Bit\'s Kubernetes examples use 5MB).',
  },
  { name: 'skip_long_lines', type: 'bool', default: false, description: 'Drop lines longer than buffer_max_size (counted in floki_input_tail_long_lines_total).' },
  {
    name: 'truncate_long_lines',
    type: 'bool',
    default: true,
    description: 'Keep the first buffer_max_size bytes of a longer line (cut on a character boundary). Unless skip_long_lines is on; one of the two must be on: floki never stops following a file over one line.',
  },
  { name: 'skip_empty_lines', type: 'bool', default: false, description: 'Drop lines whose content is empty.' },
  { name: 'rotate_wait', type: 'duration', default: '5s', description: 'After a file is renamed away (rotation), keep reading it this long for lines written late, then close it.' },
  { name: 'inotify_watcher', type: 'bool', default: true, description: 'Notice new data with inotify (fs.watch); off: poll each file\'s size four times a second. With it on, files are still checked once a second in case a notification is missed.' },
  { name: 'flush_timeout', type: 'duration', default: '4s', description: 'A split line whose last piece (CRI `F`) has not come after this long is sent as it is.' },
  { name: 'path_key', type: 'string', description: 'Record key that gets the path of the file the line came from.' },
  { name: 'key', type: 'string', default: 'log', description: 'Record key of the line.' },
];

export interface TailOptions {
  paths: string[];
  excludePaths: string[];
  tag: string;
  refreshIntervalMs: number;
  readFromHead: boolean;
  readNewFromHead: boolean;
  ignoreOlderMs?: number;
  db?: string;
  formats: LogFormat[];
  blockBytes: number;
  maxLineBytes: number;
  memBufLimit: number;
  longLines: LongLineAction;
  skipEmptyLines: boolean;
  rotateWaitMs: number;
  inotify: boolean;
  flushTimeoutMs: number;
  pathKey?: string;
  key: string;
}

/** Checks that span several options; run by --dry-run too. */
export function checkTailOptions(options: ResolvedOptions): void {
  resolveTailOptions(options, 'tail');
}

export function resolveTailOptions(options: ResolvedOptions, instanceName: string): TailOptions {
  const paths = (options.path as string[] | undefined) ?? [];
  if (paths.length === 0) throw new OptionValueError('path: expected at least one file pattern');
  const formats = ((options['multiline.parser'] as string[] | undefined) ?? []).map((f) => f.toLowerCase());
  for (const f of formats) {
    if (!(LOG_FORMATS as readonly string[]).includes(f)) throw new OptionValueError(`multiline.parser: '${f}' is not supported (supported: ${LOG_FORMATS.join(', ')})`);
  }
  const skip = options.skip_long_lines === true;
  const truncate = options.truncate_long_lines !== false;
  if (!skip && !truncate) {
    throw new OptionValueError('truncate_long_lines is off and skip_long_lines is off: turn one on (floki does not stop following a file over a long line, as Fluent Bit does)');
  }
  const blockBytes = num(options.buffer_chunk_size, 256 * 1024);
  const maxLineBytes = num(options.buffer_max_size, 1024 * 1024);
  if (blockBytes < 1) throw new OptionValueError('buffer_chunk_size: expected at least 1 byte');
  if (maxLineBytes < 1) throw new OptionValueError('buffer_max_size: expected at least 1 byte');
  if (num(options.mem_buf_limit, 1) < 1) throw new OptionValueError('mem_buf_limit: expected at least 1 byte');
  const refreshIntervalMs = num(options.refresh_interval, 60_000);
  if (refreshIntervalMs < 1) throw new OptionValueError('refresh_interval: expected more than 0');
  const tag = typeof options.tag === 'string' && options.tag.length > 0 ? options.tag : instanceName;
  return {
    paths,
    excludePaths: (options.exclude_path as string[] | undefined) ?? [],
    tag,
    refreshIntervalMs,
    readFromHead: options.read_from_head === true,
    readNewFromHead: options.read_newly_discovered_files_from_head !== false,
    ignoreOlderMs: typeof options.ignore_older === 'number' && options.ignore_older > 0 ? options.ignore_older : undefined,
    db: typeof options.db === 'string' && options.db.length > 0 ? options.db : undefined,
    formats: formats as LogFormat[],
    blockBytes,
    maxLineBytes,
    memBufLimit: num(options.mem_buf_limit, 4 * 1024 * 1024),
    longLines: skip ? 'skip' : 'truncate',
    skipEmptyLines: options.skip_empty_lines === true,
    rotateWaitMs: num(options.rotate_wait, 5000),
    inotify: options.inotify_watcher !== false,
    flushTimeoutMs: num(options.flush_timeout, 4000),
    pathKey: typeof options.path_key === 'string' && options.path_key.length > 0 ? options.path_key : undefined,
    key: typeof options.key === 'string' && options.key.length > 0 ? options.key : 'log',
  };
}

function num(value: unknown, fallback: number): number {
  return typeof value === 'number' ? value : fallback;
}

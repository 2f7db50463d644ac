/**
 * The tail input's options, named as Fluent Bit's in_tail names them; where floki's default differs,
 * the description says why.
 */
import { OptionValueError, type OptionItem, type OptionSpec, type ResolvedOptions } from '../../config/options.js';
import { compileBoundedRegex, RegexConfigError, type BoundedRegex } from '../../parsers/regex/bounded-regex.js';
import type { MultilineParser, Parser, ParserRegistry } from '../../parsers/registry.js';
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
    name: 'fluentd_pos_file',
    type: 'string',
    description:
      "Fluentd's in_tail pos_file, read once while the db does not exist yet: each file Fluentd knew resumes where Fluentd stopped (same inode: its position; replaced or truncated: from the start). Needs db; Fluentd's file is not written. The Fluentd front-end sets it from pos_file.",
  },
  {
    name: 'multiline.parser',
    type: 'list',
    default: [],
    description:
      'Multiline parsers, built-in (`cri`, `docker`, `go`, `java`, `python`, `ruby`) or defined in the config: `cri` and `docker` decode container runtime logs and join their split lines per stream; the others join stack traces and other multiline entries (of the container lines\' content, per file and stream). See "The tail input, in detail".',
  },
  {
    name: 'buffer_chunk_size',
    type: 'size',
    default: '64K',
    description:
      'Bytes read from a file per turn; files are read in turns, one block each, and a block\'s records are sent on together. Twice Fluent Bit\'s 32k (each read is a round trip to a thread); not more: a larger block\'s records live long enough to be promoted out of the young generation (issue #12\'s W2 at 256K: 0.6 of 3 GB allocated promoted, 2.4 s of scavenges; at 64K: 10 MB, 0.6 s).',
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
    default: '16M',
    description:
      'Bytes of lines read and not yet delivered (or persisted by a disk buffer) above which reading pauses until they are: the files are the buffer, so memory stays low whatever the outputs\' own limits. Fluent Bit\'s Kubernetes examples use 5MB; at 4M, reading waited on Loki round trips (issue #12\'s W2 read 10-11 MiB/s, 13-17 at 16M, with the same peak RSS).',
  },
  { name: 'skip_long_lines', type: 'bool', default: false, description: 'Drop lines longer than buffer_max_size (counted in floki_input_tail_long_lines_total).' },
  {
    name: 'truncate_long_lines',
    type: 'bool',
    default: true,
    description: 'Keep the first buffer_max_size bytes of a longer line (cut on a character boundary). Unless skip_long_lines is on; one of the two must be on: floki never stops following a file over one line.',
  },
  { name: 'skip_empty_lines', type: 'bool', default: false, description: 'Drop empty lines (nothing, or only `\\r`, before the newline), as Fluent Bit does: a CRI line whose content is empty is not an empty line.' },
  { name: 'rotate_wait', type: 'duration', default: '5s', description: 'After a file is renamed away (rotation), keep reading it this long for lines written late, then close it.' },
  { name: 'inotify_watcher', type: 'bool', default: true, description: 'Notice new data with inotify (fs.watch); off: poll each file\'s size four times a second. With it on, files are still checked once a second in case a notification is missed.' },
  { name: 'flush_timeout', type: 'duration', default: '4s', description: 'A split line whose last piece (CRI `F`) has not come after this long is sent as it is.' },
  { name: 'path_key', type: 'string', description: 'Record key that gets the path of the file the line came from.' },
  { name: 'offset_key', type: 'string', description: 'Record key that gets the offset in the file of the (first) line the record was made from.' },
  { name: 'key', type: 'string', default: 'log', description: 'Record key of the line.' },
  {
    name: 'parser',
    type: 'string',
    description:
      'Parser (from the config\'s parsers) applied to each line; a line it does not match is sent as it is (counted). Not with multiline.parser or multiline on (ignored with a warning, as in Fluent Bit).',
  },
  {
    name: 'tag_regex',
    type: 'string',
    description: "Regex on the file's path whose named groups fill `<name>` in tag (`kube.<namespace_name>.<pod_name>`; `_` when a group captured nothing). A file whose path it does not match is not followed.",
  },
  { name: 'exit_on_eof', type: 'bool', default: false, description: 'Stop floki once every file present at start is read to its end (bulk loads, tests).' },
  {
    name: 'db.sync',
    type: 'string',
    default: 'normal',
    description: 'How the positions file is synced to disk: `off` (no fsync), `normal` (the file, before it replaces the old one), `full` or `extra` (the file and its folder).',
  },
  {
    name: 'docker_mode',
    type: 'bool',
    default: false,
    description: 'Fluent Bit\'s old docker mode: docker json-file pieces (a `log` without a newline) are joined into the JSON line of the last piece, which `parser` (e.g. `docker`) then parses. Not with multiline on.',
  },
  { name: 'docker_mode_flush', type: 'int', default: 4, description: 'Seconds a docker_mode line waits for its next piece before it is sent as it is.' },
  {
    name: 'docker_mode_parser',
    type: 'string',
    description: 'Parser matching the JSON line that starts an entry: whole docker_mode lines are joined until the next line it matches.',
  },
  {
    name: 'multiline',
    type: 'bool',
    default: false,
    description: 'Fluent Bit\'s old multiline mode: a line parser_firstline matches starts a record, the lines after it are parsed by parser_N or appended to its last value.',
  },
  { name: 'multiline_flush', type: 'duration', default: '4s', description: 'How long an old-multiline record waits for its next line before it is sent.' },
  { name: 'parser_firstline', type: 'string', description: 'Old multiline: the parser that matches (and parses) the first line of a record.' },
  {
    name: 'parser_N',
    type: 'string',
    prefix: 'parser_',
    description: 'Old multiline: `parser_1`, `parser_2`, …: parsers tried in order on the lines after the first; a match adds its fields to the record.',
  },
];

export type DbSync = 'off' | 'normal' | 'full' | 'extra';

export interface TailOptions {
  paths: string[];
  excludePaths: string[];
  tag: string;
  refreshIntervalMs: number;
  readFromHead: boolean;
  readNewFromHead: boolean;
  ignoreOlderMs?: number;
  db?: string;
  dbSync: DbSync;
  fluentdPosFile?: string;
  /** `multiline.parser` names that are container log formats (cri, docker), in order. */
  formats: LogFormat[];
  /** The other `multiline.parser` names (stack traces, user parsers), in order. */
  multilineParsers: string[];
  blockBytes: number;
  maxLineBytes: number;
  memBufLimit: number;
  longLines: LongLineAction;
  skipEmptyLines: boolean;
  rotateWaitMs: number;
  inotify: boolean;
  flushTimeoutMs: number;
  pathKey?: string;
  offsetKey?: string;
  key: string;
  /** `parser`, unless multiline.parser or multiline (old) make Fluent Bit ignore it. */
  parser?: string;
  tagRegex?: string;
  exitOnEof: boolean;
  dockerMode?: { flushMs: number; parser?: string };
  oldMultiline?: { flushMs: number; firstline: string; parsers: string[] };
  /** Keys given that have no effect with the others (Fluent Bit ignores them too): warned about at start. */
  ignored: { key: string; because: string }[];
}

/** Checks that span several options and the parsers they name; run by --dry-run too. */
export function checkTailOptions(options: ResolvedOptions, env: { parsers: ParserRegistry }): void {
  tailParsers(resolveTailOptions(options, 'tail'), env.parsers);
}

export function resolveTailOptions(options: ResolvedOptions, instanceName: string): TailOptions {
  const paths = (options.path as string[] | undefined) ?? [];
  if (paths.length === 0) throw new OptionValueError('path: expected at least one file pattern');
  const formats: LogFormat[] = [];
  const multilineParsers: string[] = [];
  for (const name of (options['multiline.parser'] as string[] | undefined) ?? []) {
    const lower = name.trim().toLowerCase();
    if ((LOG_FORMATS as readonly string[]).includes(lower)) {
      if (!formats.includes(lower as LogFormat)) formats.push(lower as LogFormat);
    } else if (!multilineParsers.some((m) => m.toLowerCase() === lower)) multilineParsers.push(name.trim());
  }
  const skip = options.skip_long_lines === true;
  const truncate = options.truncate_long_lines !== false;
  if (!skip && !truncate) {
    throw new OptionValueError(
      'truncate_long_lines: off, with skip_long_lines off, is not supported by floki (Fluent Bit then stops following a file at a line over buffer_max_size; floki never does): turn one on',
    );
  }
  const blockBytes = num(options.buffer_chunk_size, 64 * 1024);
  const maxLineBytes = num(options.buffer_max_size, 1024 * 1024);
  if (blockBytes < 1) throw new OptionValueError('buffer_chunk_size: expected at least 1 byte');
  if (maxLineBytes < 1) throw new OptionValueError('buffer_max_size: expected at least 1 byte');
  if (num(options.mem_buf_limit, 1) < 1) throw new OptionValueError('mem_buf_limit: expected at least 1 byte');
  const refreshIntervalMs = num(options.refresh_interval, 60_000);
  if (refreshIntervalMs < 1) throw new OptionValueError('refresh_interval: expected more than 0');
  const tag = typeof options.tag === 'string' && options.tag.length > 0 ? options.tag : instanceName;
  const dbSync = str(options['db.sync'])?.toLowerCase() ?? 'normal';
  if (!DB_SYNC.includes(dbSync as DbSync)) throw new OptionValueError(`db.sync: expected extra, full, normal or off, got '${String(options['db.sync'])}'`);
  const tagRegex = str(options.tag_regex);
  if (tagRegex !== undefined) checkTagTemplate(tag);

  const ignored: TailOptions['ignored'] = [];
  const multilineCore = formats.length + multilineParsers.length > 0;
  const oldMultiline = options.multiline === true;
  let parser = str(options.parser);
  let dockerMode: TailOptions['dockerMode'];
  let old: TailOptions['oldMultiline'];
  if (oldMultiline && options.docker_mode === true) throw new OptionValueError('docker_mode cannot be on with multiline on (as in Fluent Bit)');
  if (multilineCore) {
    for (const key of ['parser', 'docker_mode', 'multiline'] as const) {
      if (key === 'parser' ? parser !== undefined : options[key] === true) ignored.push({ key, because: 'multiline.parser is set' });
    }
    parser = undefined;
  } else {
    if (oldMultiline) {
      const firstline = str(options.parser_firstline);
      if (firstline === undefined) throw new OptionValueError('multiline on needs parser_firstline');
      old = { flushMs: Math.max(1000, num(options.multiline_flush, 4000)), firstline, parsers: ((options.parser_N as OptionItem[] | undefined) ?? []).map((i) => i.value) };
      if (parser !== undefined) ignored.push({ key: 'parser', because: 'multiline is on' });
      parser = undefined;
    }
    if (options.docker_mode === true) {
      // Fluent Bit reads 0 or less as 1 second.
      dockerMode = { flushMs: Math.max(1, num(options.docker_mode_flush, 4)) * 1000, parser: str(options.docker_mode_parser) };
    }
  }
  return {
    paths,
    excludePaths: (options.exclude_path as string[] | undefined) ?? [],
    tag,
    refreshIntervalMs,
    readFromHead: options.read_from_head === true,
    readNewFromHead: options.read_newly_discovered_files_from_head !== false,
    ignoreOlderMs: typeof options.ignore_older === 'number' && options.ignore_older > 0 ? options.ignore_older : undefined,
    db: str(options.db),
    fluentdPosFile: str(options.fluentd_pos_file),
    dbSync: dbSync as DbSync,
    formats,
    multilineParsers,
    blockBytes,
    maxLineBytes,
    memBufLimit: num(options.mem_buf_limit, 16 * 1024 * 1024),
    longLines: skip ? 'skip' : 'truncate',
    skipEmptyLines: options.skip_empty_lines === true,
    rotateWaitMs: num(options.rotate_wait, 5000),
    inotify: options.inotify_watcher !== false,
    flushTimeoutMs: num(options.flush_timeout, 4000),
    pathKey: str(options.path_key),
    offsetKey: str(options.offset_key),
    key: str(options.key) ?? 'log',
    parser,
    tagRegex,
    exitOnEof: options.exit_on_eof === true,
    dockerMode,
    oldMultiline: old,
    ignored,
  };
}

const DB_SYNC: readonly DbSync[] = ['off', 'normal', 'full', 'extra'];

/** With tag_regex, `<name>` in the tag is a group's value: every `<` needs its `>`. */
function checkTagTemplate(tag: string): void {
  const bad = /<[^>]*(?:<|$)/.exec(tag);
  if (bad) throw new OptionValueError(`tag: missing closing angle bracket at position ${bad.index} in '${tag}'`);
}

/** The parsers the options name, looked up in the config's registry; an unknown name is an error. */
export interface TailParsers {
  multiline: MultilineParser[];
  parser?: Parser;
  dockerModeParser?: Parser;
  firstline?: Parser;
  continuation: Parser[];
  tagRegex?: BoundedRegex;
}

export function tailParsers(o: TailOptions, registry: ParserRegistry): TailParsers {
  const named = (key: string, name: string): Parser => {
    const p = registry.parser(name);
    if (p === undefined) throw new OptionValueError(`${key}: no parser named '${name}'${known(registry.parserNames())}`);
    return p;
  };
  const multiline = o.multilineParsers.map((name) => {
    const p = registry.multilineParser(name);
    if (p === undefined) throw new OptionValueError(`multiline.parser: no multiline parser named '${name}'${known(registry.multilineParserNames())}`);
    return p;
  });
  let tagRegex: BoundedRegex | undefined;
  if (o.tagRegex !== undefined) {
    try {
      tagRegex = compileBoundedRegex(o.tagRegex);
    } catch (err) {
      if (!(err instanceof RegexConfigError)) throw err;
      throw new OptionValueError(`tag_regex: ${err.message}`);
    }
  }
  return {
    multiline,
    parser: o.parser === undefined ? undefined : named('parser', o.parser),
    dockerModeParser: o.dockerMode?.parser === undefined ? undefined : named('docker_mode_parser', o.dockerMode.parser),
    firstline: o.oldMultiline === undefined ? undefined : named('parser_firstline', o.oldMultiline.firstline),
    continuation: o.oldMultiline?.parsers.map((name) => named('parser_N', name)) ?? [],
    tagRegex,
  };
}

function known(names: string[]): string {
  return names.length === 0 ? ' (none defined)' : ` (known: ${names.join(', ')})`;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function num(value: unknown, fallback: number): number {
  return typeof value === 'number' ? value : fallback;
}

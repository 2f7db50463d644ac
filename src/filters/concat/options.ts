/**
 * concat's options: fluent-plugin-concat's names, defaults and checks (lib/fluent/plugin/filter_concat.rb,
 * `config_param`s and `configure`), plus floki's bound on what it holds.
 */
import type { OptionSpec, ResolvedOptions } from '../../config/options.js';
import { RubyRegexp } from '../common/ruby-regexp.js';

export const concatOptions: readonly OptionSpec[] = [
  { name: 'key', type: 'string', required: true, description: 'The key whose values are joined (a record without it passes as it is).' },
  { name: 'separator', type: 'string', default: '\n', description: 'Put between the joined values.' },
  { name: 'n_lines', type: 'int', description: 'Join every this many records (per stream).' },
  { name: 'multiline_start_regexp', type: 'string', description: 'A record whose value matches `/regexp/` starts an entry (Ruby regexp between slashes).' },
  { name: 'multiline_end_regexp', type: 'string', description: 'A record whose value matches `/regexp/` ends an entry.' },
  { name: 'continuous_line_regexp', type: 'string', description: 'With the regexps above: only values matching `/regexp/` continue an entry; another flushes it and passes as it is.' },
  { name: 'stream_identity_key', type: 'string', description: 'Records are joined per tag and value of this key (e.g. `stream`); without it, per tag.' },
  {
    name: 'flush_interval',
    type: 'duration',
    default: '60s',
    description: 'An entry whose stream got no record for this long is flushed (checked every second, as the plugin does); see timeout_action. 0: never.',
  },
  { name: 'timeout_label', type: 'string', description: "The plugin's label for timed-out entries: floki has no labels here, so only an empty value is accepted (use timeout_action)." },
  {
    name: 'timeout_action',
    type: 'string',
    default: 'error',
    choices: ['error', 'pass'],
    description:
      "What becomes of an entry flushed by flush_interval or at stop: `error` (the plugin's: without timeout_label it goes to Fluentd's error stream, which drops it with a log line; floki drops it, logs once and counts it) or `pass` (sent on to the next filters and outputs). floki extension.",
  },
  { name: 'use_first_timestamp', type: 'bool', default: false, description: "An entry gets its first record's time (else the time of the record that completed it)." },
  { name: 'partial_key', type: 'string', description: 'Join records while this key holds partial_value; the first record without it ends the entry.' },
  { name: 'partial_value', type: 'string', description: 'The value of partial_key that marks a partial record.' },
  { name: 'keep_partial_key', type: 'bool', default: false, description: 'Keep partial_key (or partial_cri_logtag_key) in joined records.' },
  { name: 'use_partial_metadata', type: 'bool', default: false, description: "Join Docker's partial messages by their metadata keys (partial_id, partial_ordinal, partial_last), as the Docker fluentd or journald log drivers write them." },
  {
    name: 'partial_metadata_format',
    type: 'string',
    default: 'docker-fluentd',
    choices: ['docker-fluentd', 'docker-journald', 'docker-journald-lowercase'],
    description: 'With use_partial_metadata: the keys, `partial_*` (docker-fluentd), `CONTAINER_PARTIAL_*` (docker-journald) or `container_partial_*`.',
  },
  { name: 'keep_partial_metadata', type: 'bool', default: false, description: 'With use_partial_metadata: keep the partial metadata keys in joined records.' },
  { name: 'use_partial_cri_logtag', type: 'bool', default: false, description: "Join CRI partial lines: records whose partial_cri_logtag_key starts `P` go on until one with `F` (the CRI parser's logtag)." },
  { name: 'partial_cri_logtag_key', type: 'string', description: 'The key of the CRI log tag (e.g. `logtag`), with use_partial_cri_logtag.' },
  { name: 'partial_cri_stream_key', type: 'string', default: 'stream', description: 'With use_partial_cri_logtag, removed from joined records (as the plugin does).' },
  {
    name: 'buffer_limit_size',
    type: 'size',
    default: '500K',
    description: "Bytes one stream may hold (keys plus values' text, as the plugin counts). partial_key mode: the plugin's buffer_overflow_method applies; other modes (where the plugin has no limit) flush the entry early, counted.",
  },
  { name: 'buffer_overflow_method', type: 'string', default: 'ignore', choices: ['ignore', 'truncate', 'drop', 'new'], description: "partial_key mode, past buffer_limit_size: the plugin's methods (ignore: keep adding, floki flushing early past the limit)." },
  { name: 'total_limit_size', type: 'size', default: '64M', description: 'Bytes all streams together may hold; past it the stream just added to is flushed early, counted. floki extension.' },
];

export type ConcatMode = 'line' | 'partial' | 'partial_metadata' | 'partial_cri' | 'regexp';

/** The partial metadata keys of each log driver format (the plugin's `configure`). */
export interface PartialMetadataKeys {
  message: string;
  id: string;
  ordinal: string;
  last: string;
  /** The key whose presence marks a record as partial. */
  indicator: string;
}

const PARTIAL_METADATA: Record<string, PartialMetadataKeys> = {
  'docker-fluentd': { message: 'partial_message', id: 'partial_id', ordinal: 'partial_ordinal', last: 'partial_last', indicator: 'partial_message' },
  // The journald driver does not mark the last part with CONTAINER_PARTIAL_MESSAGE: the id is the indicator.
  'docker-journald': { message: 'CONTAINER_PARTIAL_MESSAGE', id: 'CONTAINER_PARTIAL_ID', ordinal: 'CONTAINER_PARTIAL_ORDINAL', last: 'CONTAINER_PARTIAL_LAST', indicator: 'CONTAINER_PARTIAL_ID' },
  'docker-journald-lowercase': { message: 'container_partial_message', id: 'container_partial_id', ordinal: 'container_partial_ordinal', last: 'container_partial_last', indicator: 'container_partial_id' },
};

export interface ConcatSettings {
  key: string;
  separator: string;
  mode: ConcatMode;
  nLines: number;
  start: RubyRegexp | undefined;
  end: RubyRegexp | undefined;
  continuous: RubyRegexp | undefined;
  streamIdentityKey: string | undefined;
  flushIntervalMs: number;
  passOnTimeout: boolean;
  useFirstTimestamp: boolean;
  partialKey: string | undefined;
  partialValue: string | undefined;
  keepPartialKey: boolean;
  partialMetadata: PartialMetadataKeys | undefined;
  keepPartialMetadata: boolean;
  criLogtagKey: string | undefined;
  criStreamKey: string;
  bufferLimit: number;
  overflow: 'ignore' | 'truncate' | 'drop' | 'new';
  totalLimit: number;
}

/** `/regexp/` as the plugin reads it: the first and last characters dropped, whatever they are. */
function slashed(value: unknown, key: string): RubyRegexp | undefined {
  if (typeof value !== 'string' || value.length === 0) return undefined;
  return new RubyRegexp(value.slice(1, -1), key);
}

/** The plugin's configure checks; throws an Error naming the keys. */
export function concatSettings(o: ResolvedOptions): ConcatSettings {
  const str = (k: string): string | undefined => (typeof o[k] === 'string' && (o[k] as string).length > 0 ? (o[k] as string) : undefined);
  const key = str('key');
  if (key === undefined) throw new Error('key: required');
  const nLines = typeof o.n_lines === 'number' ? o.n_lines : undefined;
  const startText = str('multiline_start_regexp');
  const endText = str('multiline_end_regexp');
  const partialKey = str('partial_key');
  const cri = o.use_partial_cri_logtag === true;
  const metadata = o.use_partial_metadata === true;
  if (nLines === undefined && startText === undefined && endText === undefined && partialKey === undefined && !metadata && !cri) {
    throw new Error('Either n_lines, multiline_start_regexp, multiline_end_regexp, partial_key, use_partial_metadata or use_partial_cri_logtag is required');
  }
  const regexps = startText !== undefined || endText !== undefined;
  if (nLines !== undefined && regexps) throw new Error('n_lines and multiline_start_regexp/multiline_end_regexp are exclusive');
  if (partialKey !== undefined && nLines !== undefined) throw new Error('partial_key and n_lines are exclusive');
  if (partialKey !== undefined && regexps) throw new Error('partial_key and multiline_start_regexp/multiline_end_regexp are exclusive');
  if (partialKey !== undefined && typeof o.partial_value !== 'string') throw new Error('partial_value is required when partial_key is specified');
  if (metadata && nLines !== undefined) throw new Error('use_partial_metadata and n_lines are exclusive');
  if (metadata && regexps) throw new Error('use_partial_metadata and multiline_start_regexp/multiline_end_regexp are exclusive');
  if (metadata && partialKey !== undefined) throw new Error('use_partial_metadata and partial_key are exclusive');
  if (cri && nLines !== undefined) throw new Error('use_partial_cri_logtag and n_lines are exclusive');
  if (cri && regexps) throw new Error('use_partial_cri_logtag and multiline_start_regexp/multiline_end_regexp are exclusive');
  if (cri && partialKey !== undefined) throw new Error('use_partial_cri_logtag and partial_key are exclusive');
  if (str('timeout_label') !== undefined) throw new Error("timeout_label: floki cannot send timed-out entries to a label; leave it out and set timeout_action (error: dropped as Fluentd's error stream does, pass: sent on)");
  const mode: ConcatMode = nLines !== undefined ? 'line' : partialKey !== undefined ? 'partial' : metadata ? 'partial_metadata' : cri ? 'partial_cri' : 'regexp';
  const metadataFormat = str('partial_metadata_format') ?? 'docker-fluentd';
  if (PARTIAL_METADATA[metadataFormat] === undefined) throw new Error(`partial_metadata_format: expected docker-fluentd, docker-journald or docker-journald-lowercase, got '${metadataFormat}'`);
  if (mode === 'line' && nLines! < 1) throw new Error('n_lines: expected 1 or more');
  const criLogtagKey = str('partial_cri_logtag_key');
  // The plugin would fail on each record (nil.split); refuse it at load instead.
  if (mode === 'partial_cri' && criLogtagKey === undefined) throw new Error('partial_cri_logtag_key: required with use_partial_cri_logtag (e.g. logtag)');
  const size = (k: string, d: number): number => (typeof o[k] === 'number' ? (o[k] as number) : d);
  const overflow = str('buffer_overflow_method') ?? 'ignore';
  if (!['ignore', 'truncate', 'drop', 'new'].includes(overflow)) throw new Error(`buffer_overflow_method: expected ignore, truncate, drop or new, got '${overflow}'`);
  const action = str('timeout_action') ?? 'error';
  if (action !== 'error' && action !== 'pass') throw new Error(`timeout_action: expected error or pass, got '${action}'`);
  return {
    key,
    separator: typeof o.separator === 'string' ? o.separator : '\n',
    mode,
    nLines: nLines ?? 0,
    start: mode === 'regexp' ? slashed(startText, 'multiline_start_regexp') : undefined,
    end: mode === 'regexp' ? slashed(endText, 'multiline_end_regexp') : undefined,
    continuous: mode === 'regexp' ? slashed(o.continuous_line_regexp, 'continuous_line_regexp') : undefined,
    streamIdentityKey: str('stream_identity_key'),
    flushIntervalMs: size('flush_interval', 60_000),
    passOnTimeout: action === 'pass',
    useFirstTimestamp: o.use_first_timestamp === true,
    partialKey,
    partialValue: typeof o.partial_value === 'string' ? o.partial_value : undefined,
    keepPartialKey: o.keep_partial_key === true,
    partialMetadata: mode === 'partial_metadata' ? PARTIAL_METADATA[metadataFormat] : undefined,
    keepPartialMetadata: o.keep_partial_metadata === true,
    criLogtagKey,
    criStreamKey: str('partial_cri_stream_key') ?? 'stream',
    bufferLimit: size('buffer_limit_size', 500 * 1024),
    overflow: overflow as ConcatSettings['overflow'],
    totalLimit: size('total_limit_size', 64 * 1024 * 1024),
  };
}

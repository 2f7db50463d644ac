/**
 * Keys every input, filter or output takes in Fluent Bit, declared once. A plugin may declare one of
 * them in its own option table (tail's `mem_buf_limit`, loki's `retry_limit`, forward's `threaded`)
 * to give it its own default and meaning: the plugin then receives the value in its options. For a
 * plugin that does not, the loader handles the key as `undeclared` says.
 */
import type { OptionSpec } from './options.js';
import type { PluginKind } from './model.js';

export interface CommonKey extends OptionSpec {
  kinds: readonly PluginKind[];
  /**
   * When the plugin does not declare the key: `loader` (the loader acts on it: name, alias, match,
   * log_level, storage.type), `ignore` (accepted, it has no effect on this plugin; the reason is
   * logged), or `refuse` (it would change what is delivered: not supported by floki).
   */
  undeclared: 'loader' | 'ignore' | 'refuse';
  /** Why an undeclared key is ignored or refused. */
  reason?: string;
}

export const LOG_LEVELS = ['off', 'error', 'warn', 'warning', 'info', 'debug', 'trace'] as const;

export const COMMON_KEYS: readonly CommonKey[] = [
  { name: 'name', type: 'string', kinds: ['input', 'filter', 'output'], undeclared: 'loader', description: 'The plugin (required).' },
  { name: 'alias', type: 'string', kinds: ['input', 'filter', 'output'], undeclared: 'loader', description: 'The instance name in metrics and logs, instead of `<plugin>.<n>`.' },
  {
    name: 'log_level',
    type: 'string',
    choices: LOG_LEVELS,
    kinds: ['input', 'filter', 'output'],
    undeclared: 'loader',
    description: "Level of this instance's own log lines; default: the service's `log_level`.",
  },
  { name: 'match', type: 'string', kinds: ['filter', 'output'], undeclared: 'loader', description: 'Tags taken, with `*` for any run of characters. An output without `match` or `match_regex` receives nothing (a warning says so); a filter needs one.' },
  { name: 'match_regex', type: 'string', kinds: ['filter', 'output'], undeclared: 'loader', description: 'Tags taken, as a regular expression; not with `match`.' },
  { name: 'tag', type: 'string', kinds: ['input'], undeclared: 'refuse', reason: 'this input sets its own tags', description: "Tag of the input's records (each input documents its default)." },
  {
    name: 'storage.type',
    type: 'string',
    choices: ['memory', 'filesystem'],
    kinds: ['input', 'output'],
    undeclared: 'loader',
    description: '`filesystem` on an input: the outputs it feeds keep its records on disk (under service `storage.path`) until delivered; on an output with a disk buffer, that buffer. `memrb` is not supported by floki.',
  },
  {
    name: 'mem_buf_limit',
    type: 'size',
    kinds: ['input'],
    undeclared: 'ignore',
    reason: 'floki bounds memory at the outputs (their mem_buf_limit), which pause the inputs feeding them',
    description: 'Bytes an input may hold before it pauses; inputs that do not declare it are paused by the outputs they feed when those are full.',
  },
  {
    name: 'storage.pause_on_chunks_overlimit',
    type: 'bool',
    kinds: ['input'],
    undeclared: 'ignore',
    reason: 'floki has no chunks: a full output pauses the inputs feeding it',
    description: 'Accepted; floki pauses an input whenever an output it feeds is full.',
  },
  {
    name: 'threaded',
    type: 'bool',
    kinds: ['input'],
    undeclared: 'ignore',
    reason: "floki runs this input on the main thread; it changes no record",
    description: 'Accepted on every input; forward uses it for its decoder thread, the others run on the main thread.',
  },
  {
    name: 'retry_limit',
    type: 'string',
    kinds: ['output'],
    undeclared: 'ignore',
    reason: 'this output does not retry',
    description: 'Retries of a failed send before giving up (outputs that retry document their default).',
  },
  { name: 'workers', type: 'int', kinds: ['output'], undeclared: 'ignore', reason: 'this output writes in order on the main thread', description: 'Sends in flight at once (outputs that use it document their default).' },
  {
    name: 'storage.total_limit_size',
    type: 'size',
    kinds: ['output'],
    undeclared: 'ignore',
    reason: 'this output keeps nothing on disk',
    description: "Bytes of the output's disk buffer (outputs with one document their default).",
  },
];

export function commonKeysFor(kind: PluginKind): readonly CommonKey[] {
  return COMMON_KEYS.filter((k) => k.kinds.includes(kind));
}

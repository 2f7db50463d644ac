/**
 * The multiline filter's options, with Fluent Bit's names and defaults (filter_multiline/ml.c), and
 * the checks Fluent Bit 5.1.1 makes when it starts the filter (each a config error in floki too).
 */
import type { OptionSpec, ResolvedOptions } from '../../config/options.js';
import type { MultilineParser, ParserRegistry } from '../../parsers/registry.js';

export const multilineFilterOptions: readonly OptionSpec[] = [
  {
    name: 'multiline.parser',
    type: 'list',
    description:
      'Multiline parsers, tried in order: the built-ins `go`, `java`, `python`, `ruby`, `docker`, `cri`, or the config\'s own (`multiline_parsers`, `[MULTILINE_PARSER]`). Comma-separated or repeatable. Required in `parser` mode.',
  },
  {
    name: 'multiline.key_content',
    type: 'string',
    description: "The key whose text is joined, instead of each parser's own key_content. Required in `partial_message` mode.",
  },
  {
    name: 'mode',
    type: 'string',
    default: 'parser',
    description: '`parser`: join lines by the multiline parsers\' rules; `partial_message`: join the pieces of a line split by Docker (`partial_message`, `partial_id`, `partial_last` keys, as the fluentd log driver sends them). Any case.',
  },
  {
    name: 'buffer',
    type: 'bool',
    default: true,
    description: 'Hold unfinished entries across batches until they end or flush_ms passes. Off: each batch is joined on its own and nothing is held (parser mode).',
  },
  {
    name: 'flush_ms',
    type: 'int',
    default: 2000,
    description: 'Milliseconds an unfinished entry waits for its next line before it is sent as it is (at least 500 in buffered parser mode, as in Fluent Bit).',
  },
  {
    name: 'emitter_mem_buf_limit',
    type: 'size',
    default: '10M',
    description: 'Bytes of unfinished entries the filter holds; past it, the entries waiting longest are sent on unfinished (counted), so memory stays bounded without pausing anything.',
  },
  { name: 'emitter_name', type: 'string', description: "Accepted for Fluent Bit's configs; floki sends joined entries on from the filter itself (no emitter input)." },
  {
    name: 'emitter_storage.type',
    type: 'string',
    default: 'memory',
    choices: ['memory', 'filesystem'],
    description: "Accepted for Fluent Bit's configs; joined entries are buffered by the outputs they reach, as any other record.",
  },
  { name: 'debug_flush', type: 'bool', default: false, description: 'Log (at debug level) how many entries each flush sent on.' },
];

export type MultilineMode = 'parser' | 'partial_message';

export interface MultilineFilterSettings {
  mode: MultilineMode;
  parsers: MultilineParser[];
  keyContent: string | undefined;
  buffer: boolean;
  flushMs: number;
  memBufLimit: number;
  debugFlush: boolean;
}

/** Fluent Bit refuses a buffered flush period under this (flb_ml_auto_flush_init). */
export const MIN_FLUSH_MS = 500;

/** Reads and checks the options; throws an Error naming the key. */
export function multilineFilterSettings(options: ResolvedOptions, registry: ParserRegistry): MultilineFilterSettings {
  const modeText = String(options.mode ?? 'parser').toLowerCase();
  if (modeText !== 'parser' && modeText !== 'partial_message') throw new Error(`mode: expected parser or partial_message, got '${String(options.mode)}'`);
  const mode: MultilineMode = modeText;
  const keyContent = typeof options['multiline.key_content'] === 'string' && options['multiline.key_content'].length > 0 ? options['multiline.key_content'] : undefined;
  const buffer = options.buffer !== false;
  const flushMs = Number(options.flush_ms ?? 2000);
  if (!Number.isInteger(flushMs) || flushMs < 1) throw new Error(`flush_ms: expected a number of milliseconds, got ${String(options.flush_ms)}`);
  const names = ((options['multiline.parser'] as string[] | undefined) ?? []).map((n) => n.trim()).filter((n) => n.length > 0);
  const parsers: MultilineParser[] = [];
  if (mode === 'partial_message') {
    if (keyContent === undefined) throw new Error("mode partial_message needs 'multiline.key_content' (the key holding the pieces' text)");
    if (!buffer) throw new Error('mode partial_message needs buffer on');
  } else {
    if (names.length === 0) throw new Error("mode parser needs at least one 'multiline.parser'");
    for (const n of names) {
      const p = registry.multilineParser(n);
      if (p === undefined) throw new Error(`multiline.parser: no multiline parser named '${n}' (known: ${registry.multilineParserNames().join(', ')})`);
      parsers.push(p);
    }
    if (buffer && flushMs < MIN_FLUSH_MS) throw new Error(`flush_ms: ${flushMs} is too low: at least ${MIN_FLUSH_MS} with buffer on, as in Fluent Bit`);
  }
  return {
    mode,
    parsers,
    keyContent,
    buffer,
    flushMs,
    memBufLimit: Number(options.emitter_mem_buf_limit ?? 10 * 1024 * 1024),
    debugFlush: options.debug_flush === true,
  };
}

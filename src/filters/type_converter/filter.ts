import type { OptionSpec, ResolvedOptions } from '../../config/options.js';
import type { LogEvent } from '../../core/event.js';
import type { Filter, PluginContext } from '../../core/plugin.js';
import { appendKey } from '../../record/append-key.js';
import { compileKeyReference, type KeyReference } from '../../record/key-reference.js';
import { commaHint } from '../common/option-items.js';
import { listWords } from '../common/rule-words.js';
import { castType, typecast, type CastType, type SourceType } from './typecast.js';

const rule = (name: string, what: string): OptionSpec => ({
  name,
  type: 'list',
  description: `\`FROM TO TYPE\`: convert the ${what} at FROM (a key or record accessor) to TYPE (\`int\`, \`uint\`, \`float\`, \`hex\`, \`string\`, \`bool\`, or a prefix of one) and append it as TO. Repeatable (a YAML list).`,
});

export const typeConverterOptions: readonly OptionSpec[] = [
  rule('int_key', 'integer'),
  rule('uint_key', 'integer (read as unsigned)'),
  rule('float_key', 'float'),
  rule('str_key', 'string'),
];

interface Conversion {
  from: KeyReference;
  source: SourceType;
  to: string;
  type: CastType;
}

/** Fluent Bit runs the rules by source type in this order, whatever the config's order. */
const ORDER: ReadonlyArray<[option: string, source: SourceType]> = [
  ['str_key', 'string'],
  ['int_key', 'int'],
  ['uint_key', 'uint'],
  ['float_key', 'float'],
];

/** Throws an Error whose message names the key and value. */
export function typeConverterConfig(options: ResolvedOptions): { conversions: Conversion[]; warnings: string[] } {
  const conversions: Conversion[] = [];
  const warnings: string[] = [];
  for (const [option, source] of ORDER) {
    for (const value of (options[option] as string[] | undefined) ?? []) {
      const words = listWords(value, 3);
      const where = `key '${option}' ('${value}')`;
      if (words.length < 3) throw new Error(`${where}: expected FROM TO TYPE${commaHint(options[option])}`);
      if (words.length > 3) {
        warnings.push(`${where} has more than three words: Fluent Bit skips it, and so does floki`);
        continue;
      }
      const type = castType(words[2]!);
      if (type === undefined) throw new Error(`${where}: unknown type '${words[2]}' (int, uint, float, hex, string or bool)`);
      try {
        conversions.push({ from: compileKeyReference(words[0]!), source, to: words[1]!, type });
      } catch (err) {
        throw new Error(`${where}: ${(err as Error).message}`);
      }
    }
  }
  if (conversions.length === 0) throw new Error('no rules: give int_key, uint_key, float_key or str_key');
  return { conversions, warnings };
}

/**
 * Fluent Bit's type_converter: each converted value is appended under its new key (an existing key
 * of that name is replaced, last). A value that does not convert is appended as it was, except when
 * nothing in the whole batch converted: then the batch is left alone, as Fluent Bit leaves a chunk.
 */
export class TypeConverterFilter implements Filter {
  private readonly conversions: Conversion[];
  private readonly failed: { inc(): void };
  private loggedFailure = false;

  constructor(options: ResolvedOptions, private readonly ctx: PluginContext) {
    const config = typeConverterConfig(options);
    for (const w of config.warnings) ctx.log.warn(w);
    this.conversions = config.conversions;
    this.failed = ctx.metrics
      .counter('floki_filter_type_converter_failed_values_total', 'Values type_converter could not convert (appended as they were)', ['name'])
      .labels(ctx.name);
  }

  process(events: LogEvent[]): LogEvent[] {
    // Failures wait here until something converts: if nothing does, the batch stays as it was.
    let pending: Array<{ event: LogEvent; to: string; value: unknown }> | undefined;
    let converted = false;
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      const record = event.record;
      for (let c = 0; c < this.conversions.length; c++) {
        const conversion = this.conversions[c]!;
        const value = conversion.from.get(record);
        if (value === undefined) continue;
        const result = typecast(value, conversion.source, conversion.type);
        if (result === undefined) {
          this.noteFailure(conversion);
          if (converted) set(event, conversion.to, value);
          else (pending ??= []).push({ event, to: conversion.to, value });
          continue;
        }
        if (!converted) {
          converted = true;
          for (const p of pending ?? []) set(p.event, p.to, p.value);
        }
        set(event, conversion.to, result);
      }
    }
    return events;
  }

  private noteFailure(conversion: Conversion): void {
    this.failed.inc();
    if (this.loggedFailure) return;
    this.loggedFailure = true;
    this.ctx.log.warn({ key: conversion.from.text, type: conversion.type }, 'a value did not convert: appended as it was (logged once; see floki_filter_type_converter_failed_values_total)');
  }
}

function set(event: LogEvent, key: string, value: unknown): void {
  appendKey(event.record, key, value);
  event.line = undefined;
}

/**
 * Compiles a `[PARSER]` section (or a YAML `parsers` item) into a Parser, with Fluent Bit's keys:
 * `name`, `format` (json, regex, logfmt, ltsv; and Fluentd's none, multi_format, kubernetes, see
 * formats/fluentd-formats.ts, with `message_key` and `parsers`), `regex`, `time_key`, `time_format`, `time_keep`,
 * `time_strict`, `time_offset`, `time_system_timezone`, `time_zone`, `types`, `decode_field`,
 * `decode_field_as`, `skip_empty_values`, `logfmt_no_bare_keys`. Every problem names the key and line.
 */
import { Decoders, DecoderConfigError } from './decoders.js';
import { JsonParser } from './formats/json-parser.js';
import { LogfmtParser } from './formats/logfmt-parser.js';
import { LtsvParser } from './formats/ltsv-parser.js';
import type { ParserSettings } from './formats/parser-settings.js';
import { RegexParser } from './formats/regex-parser.js';
import { compileBoundedRegex, RegexConfigError } from './regex/bounded-regex.js';
import { CRI_TIME_FORMAT, CriParser, KUBERNETES_REGEX, KUBERNETES_TIME_FORMAT, MultiFormatParser, NoneParser } from './formats/fluentd-formats.js';
import type { Parser, ParserSpec } from './registry.js';
import { SpecReader } from './spec-reader.js';
import { TimeFormat, TimeFormatError } from './time/time-format.js';
import { parseTypes } from './type-cast.js';

export const PARSER_FORMATS = ['json', 'regex', 'logfmt', 'ltsv', 'none', 'multi_format', 'kubernetes', 'cri'] as const;
const FORMAT_LIST = 'json, regex, logfmt, ltsv, none, multi_format, kubernetes or cri';

export interface CompiledParser {
  name: string | undefined;
  parser: Parser | undefined;
  reader: SpecReader;
}

export function compileParser(spec: ParserSpec): CompiledParser {
  const r = new SpecReader(spec, 'parser');
  const name = r.string('name');
  if (name === undefined) r.sectionProblem('missing name');
  else r.what = `parser ${JSON.stringify(name)}`;
  const format = r.string('format')?.toLowerCase();
  if (format === undefined) r.sectionProblem(`missing format (${FORMAT_LIST})`);
  else if (!(PARSER_FORMATS as readonly string[]).includes(format)) r.problem('format', `unknown format ${JSON.stringify(format)} (${FORMAT_LIST})`);

  const messageKey = format === 'none' ? (r.string('message_key') ?? 'message') : 'message';
  const parserList = format === 'multi_format' ? r.string('parsers') : undefined;
  const subParser = format === 'cri' ? r.string('sub_parser') : undefined;
  const mergeCriFields = format === 'cri' ? r.bool('merge_cri_fields', true) : true;
  const parserNames = (parserList ?? '').split(',').map((p) => p.trim()).filter((p) => p.length > 0);
  if (format === 'multi_format' && parserNames.length === 0) r.sectionProblem('format multi_format needs parsers (a comma list of parser names, tried in order)');

  const regexText = format === 'kubernetes' ? KUBERNETES_REGEX : r.string('regex');
  let regex;
  if (format === 'regex' || format === 'kubernetes') {
    if (regexText === undefined) r.sectionProblem('format regex needs a regex');
    else {
      try {
        regex = compileBoundedRegex(regexText);
      } catch (e) {
        if (!(e instanceof RegexConfigError)) throw e;
        r.problem('regex', e.message);
      }
    }
  }

  const settings: ParserSettings = {
    name: name ?? '',
    timeKey: r.string('time_key') ?? 'time',
    timeFormat: undefined,
    timeKeep: r.bool('time_keep', format === 'cri'),
    types: undefined,
    decoders: undefined,
    skipEmpty: r.bool('skip_empty_values', true),
    logfmtNoBareKeys: r.bool('logfmt_no_bare_keys', false),
  };
  const timeFormat = format === 'kubernetes' ? KUBERNETES_TIME_FORMAT : (r.string('time_format') ?? (format === 'cri' ? CRI_TIME_FORMAT : undefined));
  const offset = r.string('time_offset');
  const zone = r.string('time_zone');
  const systemTimezone = format === 'kubernetes' ? true : r.bool('time_system_timezone', false);
  const strict = r.bool('time_strict', true);
  if (timeFormat !== undefined) {
    try {
      settings.timeFormat = new TimeFormat({ format: timeFormat, offset, zone, systemTimezone, strict });
    } catch (e) {
      if (!(e instanceof TimeFormatError)) throw e;
      r.problem(e.key, e.message);
    }
  } else if (zone !== undefined) r.problem('time_zone', 'time_zone needs a time_format');

  const types = r.string('types');
  if (types !== undefined) settings.types = parseTypes(types);

  // Rules of one key run in the order they were written, whichever of the two keys they use.
  const decoders = new Decoders();
  r.all('decode_field');
  r.all('decode_field_as');
  for (const e of spec.entries) {
    const key = e.key.toLowerCase();
    if ((key !== 'decode_field' && key !== 'decode_field_as') || e.value === '') continue;
    try {
      decoders.add(key === 'decode_field_as', e.value);
    } catch (err) {
      if (!(err instanceof DecoderConfigError)) throw err;
      r.problemAt(e, `${r.what}: ${key}: ${err.message}`);
    }
  }
  if (!decoders.empty) settings.decoders = decoders;
  r.reportUnknown();

  if (r.problems.length > 0 || name === undefined) return { name, parser: undefined, reader: r };
  let parser: Parser;
  switch (format) {
    case 'none':
      parser = new NoneParser(name, messageKey);
      break;
    case 'multi_format':
      parser = new MultiFormatParser(name, parserNames);
      break;
    case 'cri':
      parser = new CriParser(name, settings.timeKey, settings.timeKeep, settings.timeFormat!, mergeCriFields, subParser);
      break;
    case 'kubernetes':
    case 'regex':
      parser = new RegexParser(settings, regex!);
      break;
    case 'json':
      parser = new JsonParser(settings);
      break;
    case 'logfmt':
      parser = new LogfmtParser(settings);
      break;
    default:
      parser = new LtsvParser(settings);
  }
  return { name, parser, reader: r };
}

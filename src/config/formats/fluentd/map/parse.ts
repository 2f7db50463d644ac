/**
 * Fluentd's `<parse>` section as floki parser definitions (the one parser registry): each `<parse>`
 * defines a parser named after where it is written, and the plugin names it (tail's `parser` or
 * `multiline.parser`, the parser filter's `parser`). The record is the one Fluentd's parser gives.
 */
import { basename } from 'node:path';
import type { ParserSpec, ParserSpecEntry, MultilineRuleSpec } from '../../../../parsers/registry.js';
import type { FluentdElement } from '../tree.js';
import { Directive, type MapReport } from './directive.js';
import { regexBody, timeFormatOf } from './values.js';

export interface MappedParse {
  /** A parser for each line (or each record's key). */
  parser?: string;
  /** A multiline parser joining lines first (tail only). */
  multilineParser?: string;
}

/** Fluentd's parser_syslog (rfc3164, without priority): its default expression and time format. */
const SYSLOG_REGEX = '^(?<time>[^ ]*\\s*[^ ]* [^ ]*) (?<host>[^ ]*) (?<ident>[a-zA-Z0-9_\\/\\.\\-]*)(?:\\[(?<pid>[0-9]+)\\])?(?:[^\\:]*\\:)? *(?<message>.*)$';
const SYSLOG_PRI_REGEX = '^\\<(?<pri>[0-9]+)\\>(?<time>[^ ]* {1,2}[^ ]* [^ ]*) (?<host>[^ ]*) (?<ident>[a-zA-Z0-9_\\/\\.\\-]*)(?:\\[(?<pid>[0-9]+)\\])?(?:[^\\:]*\\:)? *(?<message>.*)$';

/** What a parse section's parsers are called: unique per file and line. */
function nameAt(el: FluentdElement, suffix = ''): string {
  return `fluentd:${basename(el.file)}:${el.line}${suffix}`;
}

class SpecBuilder {
  readonly entries: ParserSpecEntry[] = [];
  constructor(readonly el: FluentdElement) {}
  set(key: string, value: string, line = this.el.line): void {
    this.entries.push({ key, value, line });
  }
  spec(rules?: MultilineRuleSpec[]): ParserSpec {
    return rules ? { file: this.el.file, line: this.el.line, entries: this.entries, rules } : { file: this.el.file, line: this.el.line, entries: this.entries };
  }
}

/**
 * Maps a `<parse>` section. `where` names its directive in messages. `forTail`: multiline is allowed.
 * Parser definitions go into `parsers`/`multilineParsers`.
 */
export function mapParse(el: FluentdElement, where: string, report: MapReport, out: { parsers: ParserSpec[]; multilineParsers: ParserSpec[] }, forTail: boolean, suffix = ''): MappedParse | undefined {
  const d = new Directive(el, `${where} <parse>`, report);
  const type = d.str('@type') ?? d.str('format');
  if (type === undefined) {
    report.refuse(el, `${where} <parse>`, 'it has no @type');
    return undefined;
  }
  const name = nameAt(el, suffix);
  const b = new SpecBuilder(el);
  b.set('name', name);
  d.ignore(['estimate_current_event', 'stream_buffer_size', 'json_parser'], 'it changes nothing floki parses');
  d.accept(['utc', 'localtime']);
  const timeKeys = (defaultKey: string | undefined) => {
    const key = d.str('time_key') ?? defaultKey;
    if (key !== undefined) b.set('time_key', key);
    const fmt = d.str('time_format');
    if (fmt !== undefined) b.set('time_format', timeFormatOf(fmt), d.param('time_format')!.line);
    // Fluentd reads a time without a zone in the system's (localtime true), unless utc.
    if (fmt !== undefined && !d.bool('utc', false) && d.bool('localtime', true)) b.set('time_system_timezone', 'on');
    b.set('time_keep', d.bool('keep_time_key', false) ? 'on' : 'off');
    d.refuseIf('time_type', 'floki reads times as strings with time_format', (v) => v === 'string');
    d.refuseIf('timezone', 'floki reads the zone from the time itself (or UTC)');
    d.refuseIf('null_value_pattern', 'not supported by floki');
    d.refuseIf('null_empty_string', 'not supported by floki', (v) => v === 'false');
    const types = d.str('types');
    if (types !== undefined) b.set('types', types.split(',').map((t) => t.trim()).filter(Boolean).join(' '));
  };
  let result: MappedParse | undefined;
  switch (type) {
    case 'json':
      b.set('format', 'json');
      timeKeys('time');
      result = { parser: name };
      break;
    case 'regexp': {
      const expr = d.param('expression') ?? d.param('format');
      if (expr === undefined || expr.value === null) {
        report.refuse(el, `${where} <parse> @type regexp`, 'it has no expression');
        return undefined;
      }
      // floki's regexes are Ruby's (Onigmo, translated): the expression and its /imx flags as written.
      const { source, flags } = regexBody(expr.value);
      const extra = (d.bool('ignorecase', false) ? 'i' : '') + (d.bool('multiline', false) ? 'm' : '');
      const all = [...new Set(flags + extra)].join('');
      if (/[^imxo]/.test(all)) report.refuse(expr, `${where} <parse> expression flags '${flags}'`, 'Ruby regexp flags are i, m, x and o');
      b.set('format', 'regex');
      b.set('regex', all === '' ? source : `/${source}/${all}`, expr.line);
      timeKeys('time');
      result = { parser: name };
      break;
    }
    case 'none':
      b.set('format', 'none');
      b.set('message_key', d.str('message_key') ?? 'message');
      result = { parser: name };
      break;
    case 'kubernetes':
      b.set('format', 'kubernetes');
      d.accept(['time_format']);
      result = { parser: name };
      break;
    case 'syslog': {
      b.set('format', 'regex');
      const withPri = d.bool('with_priority', false);
      b.set('regex', withPri ? SYSLOG_PRI_REGEX : SYSLOG_REGEX);
      d.refuseIf('message_format', 'floki reads RFC 3164 only', (v) => v === 'rfc3164');
      const fmt = d.str('time_format') ?? '%b %d %H:%M:%S';
      b.set('time_key', 'time');
      b.set('time_format', timeFormatOf(fmt));
      if (!d.bool('utc', false) && d.bool('localtime', true)) b.set('time_system_timezone', 'on');
      d.ignore(['keep_time_key'], 'not mapped for syslog');
      result = { parser: name };
      break;
    }
    case 'cri': {
      // fluent-plugin-parser-cri: `stream`, `logtag`, `message`, and the time text kept (keep_time_key true by default).
      b.set('format', 'cri');
      const key = d.str('time_key');
      if (key !== undefined) b.set('time_key', key);
      const fmt = d.str('time_format');
      if (fmt !== undefined) b.set('time_format', timeFormatOf(fmt), d.param('time_format')!.line);
      const keep = d.param('keep_time_key');
      if (keep?.value != null) b.set('time_keep', d.bool('keep_time_key', true) ? 'on' : 'off', keep.line);
      const merge = d.param('merge_cri_fields');
      if (merge?.value != null) b.set('merge_cri_fields', d.bool('merge_cri_fields', true) ? 'on' : 'off', merge.line);
      const nested = d.section('parse');
      if (nested) {
        const sub = mapParse(nested, where, report, out, false, `${suffix}.message`);
        if (sub?.parser) b.set('sub_parser', sub.parser, nested.line);
      }
      d.accept(['utc', 'localtime']);
      result = { parser: name };
      break;
    }
    case 'multi_format': {
      const names: string[] = [];
      d.sections('pattern').forEach((p, i) => {
        const one = mapParse(p, where, report, out, false, `${suffix}.${i}`);
        if (one?.parser) names.push(one.parser);
      });
      if (names.length === 0) {
        report.refuse(el, `${where} <parse @type multi_format>`, 'it has no <pattern>');
        return undefined;
      }
      b.set('format', 'multi_format');
      b.set('parsers', names.join(','));
      result = { parser: name };
      break;
    }
    case 'multiline': {
      if (!forTail) {
        report.refuse(el, `${where} <parse @type multiline>`, 'only the tail input joins lines');
        return undefined;
      }
      const first = d.param('format_firstline');
      const formats: { source: string; line: number }[] = [];
      for (let i = 1; i <= 20; i++) {
        const p = d.param(`format${i}`);
        if (p?.value) formats.push({ source: regexBody(p.value).source, line: p.line });
      }
      if (formats.length === 0) {
        report.refuse(el, `${where} <parse @type multiline>`, 'it has no format1');
        return undefined;
      }
      // The joined entry is parsed by one regex, format1..formatN end to end, with Ruby's /m (`.` matches newlines), as Fluentd builds it.
      b.set('format', 'regex');
      b.set('regex', `/${formats.map((f) => f.source).join('')}/m`, formats[0]!.line);
      timeKeys('time');
      out.parsers.push(b.spec());
      if (first?.value == null) {
        result = { parser: name };
        break;
      }
      const firstline = regexBody(first.value).source;
      const ml = new SpecBuilder(el);
      ml.set('name', `${name}.multiline`);
      ml.set('type', 'regex');
      ml.set('parser', name);
      const rules: MultilineRuleSpec[] = [
        { state: 'start_state', regex: `/${firstline}/`, nextState: 'cont', line: first.line },
        // Any line that is not a first line (Fluentd searches for format_firstline anywhere in the line unless it is anchored).
        { state: 'cont', regex: firstline.startsWith('^') ? `/^(?!${firstline.slice(1)})/` : `/^(?!.*(?:${firstline}))/`, nextState: 'cont', line: first.line },
      ];
      out.multilineParsers.push(ml.spec(rules));
      d.finish();
      return { multilineParser: `${name}.multiline` };
    }
    default:
      report.refuse(d.param('@type') ?? el, `${where} <parse> @type ${type}`, 'floki has no such parser (cri, json, regexp, none, multiline, multi_format, kubernetes and syslog are mapped)');
      return undefined;
  }
  out.parsers.push(b.spec());
  d.finish();
  return result;
}

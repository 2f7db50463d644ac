/**
 * Compiles a `[MULTILINE_PARSER]` section (or a YAML `multiline_parsers` item) with Fluent Bit's
 * keys: `name`, `type` (regex, endswith, equal/eq), `match_string`, `negate`, `key_content`,
 * `key_pattern`, `key_group`, `parser`, `flush_timeout` (milliseconds, or a duration with a unit:
 * `500ms`, `2s`), and the rules (classic `rule "state" "/regex/" "next_state"` lines or YAML
 * `rules` items). The `parser` is looked up later (it may be defined after), see ParserRegistry.
 */
import { compileBoundedRegex, RegexConfigError } from '../regex/bounded-regex.js';
import type { ParserSpec } from '../registry.js';
import { SpecReader } from '../spec-reader.js';
import { linkRules, MultilineParser, RuleError, type MultilineType, type RuleSource } from './multiline-parser.js';

export interface CompiledMultiline {
  name: string | undefined;
  parser: MultilineParser | undefined;
  reader: SpecReader;
}

const TYPES: Record<string, MultilineType> = { regex: 'regex', endswith: 'endswith', equal: 'equal', eq: 'equal' };

export function compileMultiline(spec: ParserSpec): CompiledMultiline {
  const r = new SpecReader(spec, 'multiline parser');
  const name = r.string('name');
  if (name === undefined) r.sectionProblem('missing name');
  else r.what = `multiline parser ${JSON.stringify(name)}`;
  const typeText = r.string('type');
  const type = typeText === undefined ? undefined : TYPES[typeText.toLowerCase()];
  if (typeText === undefined) r.sectionProblem('missing type (regex, endswith or equal)');
  else if (type === undefined) r.problem('type', `unknown type ${JSON.stringify(typeText)} (regex, endswith or equal)`);
  const matchString = r.string('match_string');
  if ((type === 'endswith' || type === 'equal') && matchString === undefined) r.sectionProblem(`type ${typeText} needs a match_string`);
  const negate = r.bool('negate', false);
  const keyContent = r.string('key_content');
  const keyPattern = r.string('key_pattern');
  const keyGroup = r.string('key_group');
  const parserName = r.string('parser');
  const flushText = r.string('flush_timeout');
  let flushMs: number | undefined;
  if (flushText !== undefined) {
    flushMs = parseFlushTimeout(flushText);
    if (flushMs === undefined) r.problem('flush_timeout', `expected milliseconds (4000) or a duration (4s), got ${JSON.stringify(flushText)}`);
  }
  r.all('rule');

  let rules;
  if (type === 'regex') {
    const specs = spec.rules ?? [];
    if (specs.length === 0) r.sectionProblem('type regex needs rules');
    const sources: RuleSource[] = [];
    for (const rule of specs) {
      try {
        sources.push({ states: rule.state, regex: compileBoundedRegex(rule.regex), toState: rule.nextState === '' ? undefined : rule.nextState });
      } catch (e) {
        if (!(e instanceof RegexConfigError)) throw e;
        r.problems.push({ file: spec.file, line: rule.line, message: `${r.what}: rule: ${e.message}` });
      }
    }
    if (sources.length === specs.length && specs.length > 0) {
      try {
        rules = linkRules(sources);
      } catch (e) {
        if (!(e instanceof RuleError)) throw e;
        r.problems.push({ file: spec.file, line: specs[e.index]!.line, message: `${r.what}: rule: ${e.message}` });
      }
    }
  }
  r.reportUnknown();
  if (r.problems.length > 0 || name === undefined || type === undefined) return { name, parser: undefined, reader: r };
  const parser = new MultilineParser({ name, type, matchString, negate, flushMs, keyContent, keyPattern, keyGroup, parserName, rules });
  return { name, parser, reader: r };
}

function parseFlushTimeout(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/i.exec(text);
  if (!m) return undefined;
  const unit = (m[2] ?? 'ms').toLowerCase();
  return Math.round(Number(m[1]) * (unit === 'ms' ? 1 : unit === 's' ? 1000 : 60_000));
}

/**
 * Fluent Bit's classic format (`.conf`) into the config model: `[SERVICE]`, `[INPUT]`, `[FILTER]`,
 * `[OUTPUT]`, `[PARSER]`, `[MULTILINE_PARSER]` (with `rule` lines) sections, `@INCLUDE` and `@SET`.
 * Section names and keys are case-insensitive. Parsers files hold `[PARSER]` and `[MULTILINE_PARSER]`
 * sections; upstream files an `[UPSTREAM]` and its `[NODE]`s.
 */
import type { ConfigProblem } from '../../errors.js';
import type { ConfigFiles } from '../../files.js';
import { emptyModel, type ConfigSection, type PluginKind, type PluginSection, type UpstreamSpec } from '../../model.js';
import type { MultilineRuleSpec, ParserSpec, ParserSpecEntry } from '../../../parsers/registry.js';
import { readClassic, type ClassicSink, type EntrySink } from './reader.js';
import type { FrontEndResult, NamedAt, ParsersFileResult } from '../front-end.js';
import { parseRule } from './rule.js';

const PLUGIN_SECTIONS: Record<string, PluginKind> = { INPUT: 'input', FILTER: 'filter', OUTPUT: 'output' };

/** Sections Fluent Bit knows that floki does not run. */
const REFUSED_SECTIONS: Record<string, string> = {
  PLUGINS: 'external plugins (.so) cannot be loaded by floki',
  CUSTOM: 'custom plugins are not supported by floki',
  STREAM_TASK: 'the stream processor is not supported by floki',
};

export function readClassicConfig(path: string, files: ConfigFiles): FrontEndResult {
  const model = emptyModel(path, 'classic');
  const problems: ConfigProblem[] = [];
  const sink: ClassicSink = {
    section(name, file, line) {
      const upper = name.toUpperCase();
      if (upper === 'SERVICE') {
        const section: ConfigSection = { file, line, entries: [] };
        model.service.push(section);
        return sectionEntries(section);
      }
      const kind = PLUGIN_SECTIONS[upper];
      if (kind) {
        const section: PluginSection = { kind, file, line, entries: [], processors: [] };
        model[`${kind}s`].push(section);
        return sectionEntries(section);
      }
      const parser = parserSection(upper, file, line, model.parsers, model.multilineParsers, problems);
      if (parser) return parser;
      if (REFUSED_SECTIONS[upper]) {
        model.refused.push({ name: `[${name}]`, file, line, reason: REFUSED_SECTIONS[upper]! });
        return undefined;
      }
      if (upper === 'UPSTREAM' || upper === 'NODE') {
        problems.push({ file, line, message: `[${name}] belongs in an upstream file (named by an output's 'upstream' key), not in the main config` });
        return undefined;
      }
      problems.push({ file, line, message: `unknown section [${name}] (expected SERVICE, INPUT, FILTER, OUTPUT, PARSER or MULTILINE_PARSER)` });
      return undefined;
    },
    variable(name, value, file, line) {
      model.variables.push({ name, value, file, line });
    },
  };
  const read = readClassic(path, files, sink);
  model.files.push(...read.files);
  problems.push(...read.problems);
  return { model, problems };
}

/** A parsers file (`parsers_file`) in the classic format. */
export function readClassicParsersFile(path: string, files: ConfigFiles, from?: NamedAt): ParsersFileResult {
  const result: ParsersFileResult = { parsers: [], multilineParsers: [], files: [], problems: [] };
  const sink: ClassicSink = {
    section(name, file, line) {
      const parser = parserSection(name.toUpperCase(), file, line, result.parsers, result.multilineParsers, result.problems);
      if (!parser) result.problems.push({ file, line, message: `a parsers file holds [PARSER] and [MULTILINE_PARSER] sections, not [${name}]` });
      return parser;
    },
    variable() {},
  };
  const read = readClassic(path, files, sink, from);
  result.files.push(...read.files);
  result.problems.push(...read.problems);
  return result;
}

/** An upstream file (the forward output's `upstream`): one `[UPSTREAM]` with `name`, then `[NODE]`s. */
export function readClassicUpstreamFile(path: string, files: ConfigFiles, from?: NamedAt): { upstream?: UpstreamSpec; files: string[]; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  let upstream: UpstreamSpec | undefined;
  const sink: ClassicSink = {
    section(name, file, line) {
      const upper = name.toUpperCase();
      if (upper === 'UPSTREAM') {
        if (upstream) {
          problems.push({ file, line, message: 'an upstream file holds one [UPSTREAM]' });
          return undefined;
        }
        const section: ConfigSection = { file, line, entries: [] };
        upstream = { name: '', file, line, nodes: [] };
        const own = upstream;
        return (key, value, f, l) => {
          section.entries.push({ key, value, file: f, line: l });
          if (key.toLowerCase() === 'name') own.name = value;
        };
      }
      if (upper === 'NODE') {
        if (!upstream) {
          problems.push({ file, line, message: '[NODE] before [UPSTREAM]' });
          return undefined;
        }
        const node: ConfigSection = { file, line, entries: [] };
        upstream.nodes.push(node);
        return sectionEntries(node);
      }
      problems.push({ file, line, message: `an upstream file holds [UPSTREAM] and [NODE] sections, not [${name}]` });
      return undefined;
    },
    variable() {},
  };
  const read = readClassic(path, files, sink, from);
  problems.push(...read.problems);
  if (upstream && !upstream.name) problems.push({ file: upstream.file, line: upstream.line, message: "[UPSTREAM] needs a 'name'" });
  if (!upstream && read.files.length) problems.push({ file: path, line: 0, message: 'the upstream file has no [UPSTREAM] section' });
  return { upstream, files: read.files, problems };
}

function sectionEntries(section: ConfigSection): EntrySink {
  return (key, value, file, line) => section.entries.push({ key, value, file, line });
}

function parserSection(upper: string, file: string, line: number, parsers: ParserSpec[], multiline: ParserSpec[], problems: ConfigProblem[]): EntrySink | undefined {
  if (upper === 'PARSER') {
    const entries: ParserSpecEntry[] = [];
    parsers.push({ file, line, entries });
    return (key, value, _file, l) => entries.push({ key: key.toLowerCase(), value, line: l });
  }
  if (upper === 'MULTILINE_PARSER') {
    const entries: ParserSpecEntry[] = [];
    const rules: MultilineRuleSpec[] = [];
    multiline.push({ file, line, entries, rules });
    return (key, value, f, l) => {
      if (key.toLowerCase() !== 'rule') {
        entries.push({ key: key.toLowerCase(), value, line: l });
        return;
      }
      const rule = parseRule(value, l);
      if (typeof rule === 'string') problems.push({ file: f, line: l, message: `[MULTILINE_PARSER] rule: ${rule}` });
      else rules.push(rule);
    };
  }
  return undefined;
}

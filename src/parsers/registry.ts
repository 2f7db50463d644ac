/**
 * One registry of named parsers and multiline parsers, filled from a config's `parsers` /
 * `multiline_parsers` sections and `parsers_file`s, and read by every plugin that parses: the tail
 * input (`parser`, `multiline.parser`), the parser and multiline filters, the kubernetes filter's
 * `merge_parser` and `fluentbit.io/parser` annotations.
 *
 * This file is the contract between the config front-ends (which only turn their syntax into
 * `ParserSpec`s, keeping file and line) and the parsers themselves (which compile a spec and say what
 * is wrong with it, by file, line and key).
 *
 * Use: `define()` / `defineMultiline()` each section in order, then `validate()` once (a multiline
 * parser may name a `parser` defined after it). The built-in multiline parsers (docker, cri, go,
 * java, python, ruby) are always there; Fluent Bit's stock parsers file is `stockParsersFile()`
 * (parsers/stock.ts), which the front-end loads when a config names `parsers.conf`.
 * Parser names are case-sensitive and multiline parser names are not, as in Fluent Bit.
 */
import type { ConfigProblem } from '../config/errors.js';
import { BUILTIN_MULTILINE_NAMES, builtinMultilineParser } from './multiline/builtin-multiline.js';
import { compileMultiline } from './multiline/multiline-factory.js';
import type { MultilineParser } from './multiline/multiline-parser.js';
import { compileParser } from './parser-factory.js';
import { CriParser, MultiFormatParser } from './formats/fluentd-formats.js';

export type { MultilineParser } from './multiline/multiline-parser.js';

/** One `key value` of a parser definition as the user wrote it; `key` lower-cased. */
export interface ParserSpecEntry {
  key: string;
  value: string;
  line: number;
}

/** One rule of a multiline parser: `rule "state" "/regex/" "next_state"` (classic) or a YAML `rules` item. */
export interface MultilineRuleSpec {
  state: string;
  /** As written, slashes included (`/^\s+at .*\/`). */
  regex: string;
  nextState: string;
  line: number;
}

/** A `[PARSER]` / `[MULTILINE_PARSER]` section or a YAML `parsers` / `multiline_parsers` item. */
export interface ParserSpec {
  file: string;
  line: number;
  entries: readonly ParserSpecEntry[];
  /** Multiline parsers only. */
  rules?: readonly MultilineRuleSpec[];
}

/** What a parser made of one text. */
export interface ParseResult {
  record: Record<string, unknown>;
  /** The time read from `time_key` with `time_format`, in ns since the epoch; undefined when there is none (keep the event's time). */
  time: bigint | undefined;
}

export interface Parser {
  readonly name: string;
  /** Parses one text. Undefined when it does not match: the caller keeps the record unchanged (and counts it). Never throws. */
  parse(text: string): ParseResult | undefined;
  /**
   * Times that did not fit the time format so far (Fluent Bit logs a warning per record; a plugin
   * exports this as a metric instead). The record is still parsed (json, regex) or not matched
   * (logfmt, ltsv), as in Fluent Bit.
   */
  readonly timeFailures: number;
  /**
   * Texts or decode_field values left unparsed so far because they nest maps and arrays deeper than
   * a record may (MAX_RECORD_NESTING); a plugin exports it as a metric. Absent: this parser makes no
   * nested values.
   */
  readonly tooDeep?: number;
}

interface PendingReference {
  multiline: MultilineParser;
  spec: ParserSpec;
}

export class ParserRegistry {
  private readonly parsers = new Map<string, Parser>();
  /** By lower-cased name; a built-in is undefined until first asked for (compiling all six took ~25 ms of start-up). */
  private readonly multilineParsers = new Map<string, MultilineParser | undefined>();
  private readonly unresolved: PendingReference[] = [];
  private readonly multiFormats: { parser: MultiFormatParser; spec: ParserSpec }[] = [];
  private readonly criParsers: { parser: CriParser; spec: ParserSpec }[] = [];

  constructor() {
    for (const name of BUILTIN_MULTILINE_NAMES) this.multilineParsers.set(name, undefined);
  }

  parser(name: string): Parser | undefined {
    return this.parsers.get(name);
  }

  multilineParser(name: string): MultilineParser | undefined {
    const key = name.trim().toLowerCase();
    let p = this.multilineParsers.get(key);
    if (p === undefined && this.multilineParsers.has(key)) {
      p = builtinMultilineParser(key);
      this.multilineParsers.set(key, p);
    }
    if (p !== undefined && p.parserName !== undefined && p.parser === undefined) p.parser = this.parsers.get(p.parserName);
    return p;
  }

  /** Compiles and adds a parser; returns what is wrong with the spec (nothing is added then). */
  define(spec: ParserSpec): ConfigProblem[] {
    const { name, parser, reader } = compileParser(spec);
    if (name !== undefined && this.parsers.has(name)) {
      reader.sectionProblem(`a parser named ${JSON.stringify(name)} is already defined`);
      return reader.problems;
    }
    if (parser !== undefined && name !== undefined) {
      this.parsers.set(name, parser);
      if (parser instanceof MultiFormatParser) this.multiFormats.push({ parser, spec });
      if (parser instanceof CriParser && parser.subParserName !== undefined) this.criParsers.push({ parser, spec });
    }
    return reader.problems;
  }

  /** Compiles and adds a multiline parser; returns what is wrong with the spec. */
  defineMultiline(spec: ParserSpec): ConfigProblem[] {
    const { name, parser, reader } = compileMultiline(spec);
    if (name !== undefined && this.multilineParsers.has(name.toLowerCase())) {
      reader.sectionProblem(`a multiline parser named ${JSON.stringify(name)} is already defined`);
      return reader.problems;
    }
    if (parser === undefined || name === undefined) return reader.problems;
    this.multilineParsers.set(name.toLowerCase(), parser);
    if (parser.parserName !== undefined) this.unresolved.push({ multiline: parser, spec });
    return reader.problems;
  }

  /** After every definition: each multiline parser's `parser` must name a defined parser. */
  validate(): ConfigProblem[] {
    const problems: ConfigProblem[] = [];
    for (const { parser, spec } of this.multiFormats.splice(0)) {
      const line = spec.entries.find((e) => e.key.toLowerCase() === 'parsers')?.line ?? spec.line;
      for (const name of parser.parserNames) {
        const p = this.parsers.get(name);
        if (p === undefined) problems.push({ file: spec.file, line, message: `parser ${JSON.stringify(parser.name)}: parsers: no parser named ${JSON.stringify(name)}` });
        else if (p === parser || p instanceof MultiFormatParser) problems.push({ file: spec.file, line, message: `parser ${JSON.stringify(parser.name)}: parsers: ${JSON.stringify(name)} is a multi_format parser itself` });
        else parser.parsers.push(p);
      }
    }
    for (const { parser, spec } of this.criParsers.splice(0)) {
      const line = spec.entries.find((e) => e.key.toLowerCase() === 'sub_parser')?.line ?? spec.line;
      const p = this.parsers.get(parser.subParserName!);
      if (p === undefined || p === parser) problems.push({ file: spec.file, line, message: `parser ${JSON.stringify(parser.name)}: sub_parser: no parser named ${JSON.stringify(parser.subParserName)}` });
      else parser.subParser = p;
    }
    for (const { multiline, spec } of this.unresolved.splice(0)) {
      const p = this.parsers.get(multiline.parserName!);
      if (p !== undefined) {
        multiline.parser = p;
        continue;
      }
      const line = spec.entries.find((e) => e.key.toLowerCase() === 'parser')?.line ?? spec.line;
      problems.push({ file: spec.file, line, message: `multiline parser ${JSON.stringify(multiline.name)}: parser: no parser named ${JSON.stringify(multiline.parserName)}` });
    }
    return problems;
  }

  /** Names of the defined parsers, for messages ("no parser named x; known: …"). */
  parserNames(): string[] {
    return [...this.parsers.keys()];
  }

  multilineParserNames(): string[] {
    return [...this.multilineParsers].map(([key, p]) => p?.name ?? key);
  }
}

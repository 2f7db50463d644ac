/**
 * One registry of named parsers and multiline parsers, filled from a config's `parsers` /
 * `multiline_parsers` sections and `parsers_file`s, and read by every plugin that parses: the tail
 * input (`parser`, `multiline.parser`), the parser and multiline filters, the kubernetes filter's
 * `merge_parser` and `fluentbit.io/parser` annotations.
 *
 * This file is the contract between the config front-ends (which only turn their syntax into
 * `ParserSpec`s, keeping file and line) and the parsers themselves (which compile a spec and say what
 * is wrong with it, by file, line and key).
 */
import type { ConfigProblem } from '../config/errors.js';

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
}

/** A multiline parser (built-in `docker`, `cri`, `go`, `python`, `java`, `ruby`, or user rules). Its joining API is defined in parsers/multiline. */
export interface MultilineParser {
  readonly name: string;
}

export class ParserRegistry {
  private readonly parsers = new Map<string, Parser>();
  private readonly multilineParsers = new Map<string, MultilineParser>();

  parser(name: string): Parser | undefined {
    return this.parsers.get(name);
  }

  multilineParser(name: string): MultilineParser | undefined {
    return this.multilineParsers.get(name);
  }

  /** Compiles and adds a parser; returns what is wrong with the spec (nothing is added then). */
  define(spec: ParserSpec): ConfigProblem[] {
    return [{ file: spec.file, line: spec.line, message: 'parsers are not supported yet' }];
  }

  /** Compiles and adds a multiline parser; returns what is wrong with the spec. */
  defineMultiline(spec: ParserSpec): ConfigProblem[] {
    return [{ file: spec.file, line: spec.line, message: 'multiline parsers are not supported yet' }];
  }
}

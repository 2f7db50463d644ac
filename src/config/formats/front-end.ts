/** What every front-end returns: the model of one config, or of one parsers file, with the problems found reading it. */
import type { ConfigProblem } from '../errors.js';
import type { ConfigModel } from '../model.js';
import type { ParserSpec } from '../../parsers/registry.js';

export interface FrontEndResult {
  model: ConfigModel;
  problems: ConfigProblem[];
}

export interface ParsersFileResult {
  parsers: ParserSpec[];
  multilineParsers: ParserSpec[];
  files: string[];
  problems: ConfigProblem[];
}

/** Where a file was named: an `@INCLUDE` line, an `includes` item, a `parsers_file` key (`what` says which). */
export interface NamedAt {
  file: string;
  line: number;
  what: string;
}

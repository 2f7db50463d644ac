/**
 * The front-ends, chosen as Fluent Bit chooses: a file ending in `.yaml` or `.yml` is YAML, any other
 * is the classic format.
 */
import type { ConfigFiles } from '../files.js';
import type { ConfigProblem } from '../errors.js';
import type { ConfigFormat, UpstreamSpec } from '../model.js';
import { readClassicConfig, readClassicParsersFile, readClassicUpstreamFile } from './classic/index.js';
import { readYamlConfig, readYamlParsersFile, readYamlUpstreamFile } from './yaml/index.js';
import type { FrontEndResult, NamedAt, ParsersFileResult } from './front-end.js';

export type { FrontEndResult, ParsersFileResult };

export function formatOf(path: string): ConfigFormat {
  return /\.ya?ml$/i.test(path) ? 'yaml' : 'classic';
}

export function readConfig(path: string, files: ConfigFiles, format: ConfigFormat = formatOf(path)): FrontEndResult {
  return format === 'yaml' ? readYamlConfig(path, files) : readClassicConfig(path, files);
}

export function readParsersFile(path: string, files: ConfigFiles, from?: NamedAt): ParsersFileResult {
  return formatOf(path) === 'yaml' ? readYamlParsersFile(path, files, from) : readClassicParsersFile(path, files, from);
}

/** An upstream file (the forward output's `upstream`): `[UPSTREAM]` and `[NODE]`s, or YAML `upstream_servers`. */
export function readUpstreamFile(path: string, files: ConfigFiles, from?: NamedAt): { upstream?: UpstreamSpec; files: string[]; problems: ConfigProblem[] } {
  return formatOf(path) === 'yaml' ? readYamlUpstreamFile(path, files, from) : readClassicUpstreamFile(path, files, from);
}

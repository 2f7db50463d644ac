/**
 * The front-ends, chosen as Fluent Bit chooses: a file ending in `.yaml` or `.yml` is YAML, any other
 * is the classic format, unless its content is Fluentd's (detectFormat): its first directive is
 * `<source>`, `<match>`, `<filter>`, `<label>`, `<system>` or `<worker>`, where Fluent Bit's are `[SECTION]`s.
 */
import type { ConfigFiles } from '../files.js';
import type { ConfigProblem } from '../errors.js';
import type { ConfigFormat, UpstreamSpec } from '../model.js';
import { readClassicConfig, readClassicParsersFile, readClassicUpstreamFile } from './classic/index.js';
import { readFluentdConfig } from './fluentd/map/index.js';
import { readYamlConfig, readYamlParsersFile, readYamlUpstreamFile } from './yaml/index.js';
import type { FrontEndResult, NamedAt, ParsersFileResult } from './front-end.js';

export type { FrontEndResult, ParsersFileResult };

export function formatOf(path: string): ConfigFormat {
  return /\.ya?ml$/i.test(path) ? 'yaml' : 'classic';
}

/** The format by name, then by content for a file that is not YAML. An unreadable file is left to the front-end to report. */
export function detectFormat(path: string, files: ConfigFiles): ConfigFormat {
  const byName = formatOf(path);
  if (byName === 'yaml') return byName;
  let text: string;
  try {
    text = files.peek ? files.peek(path) : files.read(path);
  } catch {
    return byName;
  }
  return looksLikeFluentd(text) ? 'fluentd' : byName;
}

/** A line starting with `<name`: Fluent Bit's classic format has no such line, Fluentd's directives do. */
const FLUENTD_DIRECTIVE = /^<[a-zA-Z_]/;

/** The first directive decides: a Fluentd `<directive>` (the mapper refuses one it does not know) or a Fluent Bit `[SECTION]`; includes and comments are passed over. */
export function looksLikeFluentd(text: string): boolean {
  for (const raw of text.split('\n')) {
    const line = raw.replace(/^\uFEFF/, '').trim();
    if (line === '' || line.startsWith('#')) continue;
    if (FLUENTD_DIRECTIVE.test(line)) return true;
    if (line.startsWith('[')) return false;
    if (/^@include\s/i.test(line) || /^@set\s/i.test(line)) continue;
    return false;
  }
  return false;
}

export function readConfig(path: string, files: ConfigFiles, format: ConfigFormat = formatOf(path), environment?: NodeJS.ProcessEnv): FrontEndResult {
  if (format === 'fluentd') return readFluentdConfig(path, files, environment ? { env: environment } : {});
  return format === 'yaml' ? readYamlConfig(path, files) : readClassicConfig(path, files);
}

export function readParsersFile(path: string, files: ConfigFiles, from?: NamedAt): ParsersFileResult {
  return formatOf(path) === 'yaml' ? readYamlParsersFile(path, files, from) : readClassicParsersFile(path, files, from);
}

/** An upstream file (the forward output's `upstream`): `[UPSTREAM]` and `[NODE]`s, or YAML `upstream_servers`. */
export function readUpstreamFile(path: string, files: ConfigFiles, from?: NamedAt): { upstream?: UpstreamSpec; files: string[]; problems: ConfigProblem[] } {
  return formatOf(path) === 'yaml' ? readYamlUpstreamFile(path, files, from) : readClassicUpstreamFile(path, files, from);
}

/**
 * The config model every format's front-end produces (Fluent Bit YAML, Fluent Bit classic, and
 * Fluentd): sections of `{key, value, file, line}` entries, nested sections for processors, parser
 * definitions and upstreams. It says nothing about plugins: option tables, defaults, validation and
 * docs come after it, once per plugin, whatever the format the user wrote.
 *
 * Values are kept as written (strings from the classic format, YAML scalars, lists and maps):
 * `${VAR}` is replaced later, in one place, so every format substitutes the same way.
 */
import type { ParserSpec } from '../parsers/registry.js';

/** A value as the user wrote it: a string or YAML scalar, or a YAML list or map (the dummy input's record). */
export type ConfigValue = string | number | boolean | null | ConfigValue[] | { [key: string]: ConfigValue };

/** One `key value` of a section. */
export interface ConfigEntry {
  /** As written; compared lower-cased (Fluent Bit reads keys case-insensitively). */
  key: string;
  value: ConfigValue;
  file: string;
  line: number;
}

/** A section of entries: `service`, an upstream node. */
export interface ConfigSection {
  file: string;
  line: number;
  entries: ConfigEntry[];
}

export type PluginKind = 'input' | 'filter' | 'output';

/** An `[INPUT]`/`[FILTER]`/`[OUTPUT]` section or a `pipeline` list item; `name` is one of its entries. */
export interface PluginSection extends ConfigSection {
  kind: PluginKind;
  /**
   * Filters that run on this input's or output's events alone (YAML `processors: logs:`), in order.
   * Each is a `filter` section without `match`.
   */
  processors: PluginSection[];
  /** Fluentd front-end only: the route group (label) of the instance (see PluginInstanceConfig.routeGroup). */
  routeGroup?: string;
  /** Fluentd front-end only: an output that is `relabel` to this route group. */
  relabel?: string;
}

/** A variable set by the config itself (`@SET name=value`, YAML `env`); the environment comes after these. */
export interface ConfigVariable {
  name: string;
  value: string;
  file: string;
  line: number;
}

/** Fluent Bit's upstream definition (`[UPSTREAM]` + `[NODE]`s, YAML `upstream_servers`), for outputs that balance over nodes. */
export interface UpstreamSpec {
  name: string;
  file: string;
  line: number;
  nodes: ConfigSection[];
}

/** A part of the config floki reads but does not run, reported with where it is and why. */
export interface RefusedSection {
  /** How the user named it: `[PLUGINS]`, `customs`, `processors.metrics`. */
  name: string;
  file: string;
  line: number;
  reason: string;
}

/** A harmless part of the config floki ignores (with a warning), e.g. YAML `extensions`. */
export interface IgnoredSection {
  name: string;
  file: string;
  line: number;
  reason: string;
}

export type ConfigFormat = 'yaml' | 'classic' | 'fluentd';

export interface ConfigModel {
  /** The main file (its path as given). */
  file: string;
  format: ConfigFormat;
  /** Every file read, the main file first: includes and parsers files. */
  files: string[];
  /** Service sections in the order read; a later key wins, except `parsers_file`, which adds. */
  service: ConfigSection[];
  variables: ConfigVariable[];
  inputs: PluginSection[];
  filters: PluginSection[];
  outputs: PluginSection[];
  parsers: ParserSpec[];
  multilineParsers: ParserSpec[];
  upstreams: UpstreamSpec[];
  refused: RefusedSection[];
  ignored: IgnoredSection[];
  /** Other warnings of the front-end, as they are to be shown (Fluentd's parser: a key given twice, an include matching nothing). */
  warnings?: { file: string; line: number; message: string }[];
}

export function emptyModel(file: string, format: ConfigFormat): ConfigModel {
  return { file, format, files: [], service: [], variables: [], inputs: [], filters: [], outputs: [], parsers: [], multilineParsers: [], upstreams: [], refused: [], ignored: [] };
}

/** The entries of `key` (lower-case) in a section, in order. */
export function entriesOf(section: ConfigSection, key: string): ConfigEntry[] {
  return section.entries.filter((e) => e.key.toLowerCase() === key);
}

/** The last entry of `key` (lower-case) in a section. */
export function entryOf(section: ConfigSection, key: string): ConfigEntry | undefined {
  for (let i = section.entries.length - 1; i >= 0; i--) if (section.entries[i]!.key.toLowerCase() === key) return section.entries[i];
  return undefined;
}

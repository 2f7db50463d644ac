/**
 * Loading a config: the front-end for its format reads the file and what it includes into the config
 * model, `parsers_file`s are read into it, outputs' `upstream`s are bound to their nodes, and the model is validated against the plugins' option
 * tables. A pure function of the files and the environment, so a reload can call it again.
 */
import { basename, isAbsolute, relative, resolve } from 'node:path';
import type { ConfigWarning, FlokiConfig } from '../core/pipeline-config.js';
import { ParserRegistry } from '../parsers/registry.js';
import { ConfigError, type ConfigProblem } from './errors.js';
import { DiskFiles, folderOf, resolveAgainst, type ConfigFiles } from './files.js';
import { detectFormat, readConfig, readParsersFile } from './formats/index.js';
import type { ConfigFormat, ConfigModel } from './model.js';
import { parseEntries } from './resolve/options.js';
import { resolveModel, variablesOf } from './resolve/index.js';
import { bindUpstreams } from './resolve/upstreams.js';
import { Report } from './resolve/report.js';
import { SERVICE_OPTIONS } from './service-options.js';
import { stockFiles } from './stock-files.js';
import type { Variables } from './variables.js';
import type { PluginRegistry } from '../core/registry-types.js';

export type { FlokiConfig, PluginInstanceConfig, ServiceConfig, Section } from '../core/pipeline-config.js';
export type { PluginRegistry } from '../core/registry-types.js';

export interface LoadOptions {
  environment?: NodeJS.ProcessEnv;
  /** How files are read (tests give them from memory). */
  files?: ConfigFiles;
  /** The format, when not the one the file says (`.yaml`/`.yml`: YAML; a first directive `<source>`, `<match>`, ...: Fluentd; else classic). */
  format?: ConfigFormat;
  /** Files floki ships, by base name: a `parsers_file` named so that does not exist is read from here. */
  stockFiles?: ReadonlyMap<string, string>;
  /** A new registry for the config's parsers. */
  parsers?: () => ParserRegistry;
}

export interface LoadResult {
  config?: FlokiConfig;
  /** Every problem, files named relative to the main file's folder. Empty when `config` is set. */
  problems: ConfigProblem[];
  warnings: ConfigWarning[];
}

/** Loads and validates a config; never throws for a mistake in it (those are `problems`). */
export function loadConfig(path: string, registry: PluginRegistry, options: LoadOptions = {}): LoadResult {
  const read = readModel(path, options);
  return 'model' in read ? resolveRead(read, registry, options) : read;
}

/**
 * As loadConfig, with the registry made from the config's model once it is read: the CLI loads only
 * the plugins the config names (registryFor in src/plugin-catalogue.ts). The files are read once.
 */
export async function loadConfigLazily(path: string, registryFor: (model: ConfigModel) => Promise<PluginRegistry>, options: LoadOptions = {}): Promise<LoadResult> {
  const read = readModel(path, options);
  return 'model' in read ? resolveRead(read, await registryFor(read.model), options) : read;
}

interface ReadModel {
  model: ConfigModel;
  variables: Variables;
  report: Report;
  display: ReturnType<typeof displayName>;
}

/** The model of the config and its parsers and upstream files, or the problems reading them. */
function readModel(path: string, options: LoadOptions): ReadModel | LoadResult {
  const files = options.files ?? new DiskFiles();
  const environment = options.environment ?? process.env;
  const display = displayName(path);
  const front = readConfig(path, files, options.format ?? detectFormat(path, files), environment);
  if (front.problems.length) return { problems: front.problems.map(display), warnings: [] };
  const model = front.model;
  const variables = variablesOf(model, environment);
  const report = new Report();
  readParsersFiles(model, variables, files, options.stockFiles ?? stockFiles(), report);
  bindUpstreams(model, variables, files, report);
  if (report.problems.length) return { problems: report.problems.map(display), warnings: [] };
  return { model, variables, report, display };
}

function resolveRead({ model, variables, report, display }: ReadModel, registry: PluginRegistry, options: LoadOptions): LoadResult {
  const resolved = resolveModel(model, registry, variables, (options.parsers ?? (() => new ParserRegistry()))(), report);
  const warnings = report.warnings.map(display);
  if (!resolved.config) return { problems: report.problems.map(display), warnings };
  resolved.config.warnings = warnings;
  return { config: resolved.config, problems: [], warnings };
}

/** Loads a config file; throws ConfigError with every problem found. */
export function loadConfigFile(path: string, registry: PluginRegistry, environment: NodeJS.ProcessEnv = process.env, options: LoadOptions = {}): FlokiConfig {
  const result = loadConfig(path, registry, { ...options, environment });
  if (!result.config) throw new ConfigError(result.problems);
  return result.config;
}

/**
 * Parses and validates a config given as text (`file` names it in messages, and its ending gives the
 * format); includes and parsers files are read from the disk, relative to it. Throws ConfigError.
 */
export function parseConfig(text: string, file: string, registry: PluginRegistry, environment: NodeJS.ProcessEnv = process.env, options: LoadOptions = {}): FlokiConfig {
  const files = new DiskFiles(new Map([[resolve(file), text]]));
  return loadConfigFile(file, registry, environment, { files, ...options });
}

/**
 * Reads every `parsers_file` of the service sections into the model, in order. A relative path is
 * taken from the folder of the file that names it, then the main file's; a missing file whose name
 * floki ships (`parsers.conf`) is floki's copy, noted as a warning.
 */
function readParsersFiles(model: ConfigModel, variables: Variables, files: ConfigFiles, stock: ReadonlyMap<string, string>, report: Report): void {
  const spec = SERVICE_OPTIONS.find((o) => o.name === 'parsers_file')!;
  const main = folderOf(model.file);
  for (const section of model.service) {
    for (const entry of section.entries) {
      if (entry.key.toLowerCase() !== 'parsers_file') continue;
      const paths = parseEntries(spec, [entry], variables, 'service', report) as string[] | undefined;
      for (const path of paths ?? []) {
        let full = resolveAgainst(files, path, [folderOf(entry.file), main]);
        const shipped = stock.get(basename(path));
        if (!files.exists(full) && shipped) {
          report.warning(entry, `service: parsers_file ${path}: no such file, using the stock ${basename(path)} floki ships (Fluent Bit's)`);
          full = shipped;
        }
        const read = readParsersFile(full, files, { file: entry.file, line: entry.line, what: `service: parsers_file` });
        for (const p of read.problems) report.problem(p, p.message);
        model.files.push(...read.files);
        model.parsers.push(...read.parsers);
        model.multilineParsers.push(...read.multilineParsers);
      }
    }
  }
}

/** Files in messages: relative to the main file's folder when inside it, else absolute. */
function displayName(mainPath: string): <T extends { file: string }>(p: T) => T {
  const main = resolve(mainPath);
  const folder = folderOf(mainPath);
  return (p) => {
    const full = resolve(p.file);
    let file: string;
    if (full === main) file = basename(mainPath);
    else {
      const rel = relative(folder, full);
      file = rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : full;
    }
    return { ...p, file };
  };
}

import type { OptionSpec, ResolvedOptions } from '../config/options.js';
import type { Filter, FilterContext, Input, InputContext, Output, OutputContext } from './plugin.js';
import type { ParserRegistry } from '../parsers/registry.js';

/** What a plugin's `check` may consult besides its own options. */
export interface CheckEnvironment {
  /** The config's parsers, to check that a named parser exists. */
  parsers: ParserRegistry;
}

export interface InputPlugin {
  /** Checks that span several options (throws an Error whose message names the key); run by --dry-run too. */
  check?(options: ResolvedOptions, env: CheckEnvironment): void;
  kind: 'input';
  name: string;
  description: string;
  options: readonly OptionSpec[];
  create(options: ResolvedOptions, ctx: InputContext): Input;
}

export interface FilterPlugin {
  /** Checks that span several options (throws an Error whose message names the key); run by --dry-run too. */
  check?(options: ResolvedOptions, env: CheckEnvironment): void;
  kind: 'filter';
  name: string;
  description: string;
  options: readonly OptionSpec[];
  create(options: ResolvedOptions, ctx: FilterContext): Filter;
}

export interface OutputPlugin {
  /** Checks that span several options (throws an Error whose message names the key); run by --dry-run too. */
  check?(options: ResolvedOptions, env: CheckEnvironment): void;
  kind: 'output';
  name: string;
  description: string;
  options: readonly OptionSpec[];
  create(options: ResolvedOptions, ctx: OutputContext): Output;
}

export type AnyPlugin = InputPlugin | FilterPlugin | OutputPlugin;

/** Every plugin a config may name, by name. */
export type PluginRegistry = ReadonlyMap<string, AnyPlugin>;

import type { OptionSpec, ResolvedOptions } from '../config/options.js';
import type { Filter, Input, InputContext, Output, OutputContext, PluginContext } from './plugin.js';

export interface InputPlugin {
  /** Checks that span several options (throws an Error whose message names the key); run by --dry-run too. */
  check?(options: ResolvedOptions): void;
  kind: 'input';
  name: string;
  description: string;
  options: readonly OptionSpec[];
  create(options: ResolvedOptions, ctx: InputContext): Input;
}

export interface FilterPlugin {
  /** Checks that span several options (throws an Error whose message names the key); run by --dry-run too. */
  check?(options: ResolvedOptions): void;
  kind: 'filter';
  name: string;
  description: string;
  options: readonly OptionSpec[];
  create(options: ResolvedOptions, ctx: PluginContext): Filter;
}

export interface OutputPlugin {
  /** Checks that span several options (throws an Error whose message names the key); run by --dry-run too. */
  check?(options: ResolvedOptions): void;
  kind: 'output';
  name: string;
  description: string;
  options: readonly OptionSpec[];
  create(options: ResolvedOptions, ctx: OutputContext): Output;
}

export type AnyPlugin = InputPlugin | FilterPlugin | OutputPlugin;

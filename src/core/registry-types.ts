import type { OptionSpec, ResolvedOptions } from '../config/options.js';
import type { Filter, Input, InputContext, Output, OutputContext, PluginContext } from './plugin.js';

export interface InputPlugin {
  kind: 'input';
  name: string;
  description: string;
  options: readonly OptionSpec[];
  create(options: ResolvedOptions, ctx: InputContext): Input;
}

export interface FilterPlugin {
  kind: 'filter';
  name: string;
  description: string;
  options: readonly OptionSpec[];
  create(options: ResolvedOptions, ctx: PluginContext): Filter;
}

export interface OutputPlugin {
  kind: 'output';
  name: string;
  description: string;
  options: readonly OptionSpec[];
  create(options: ResolvedOptions, ctx: OutputContext): Output;
}

export type AnyPlugin = InputPlugin | FilterPlugin | OutputPlugin;

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

/**
 * Every plugin a config may name, by name. Where an input and an output share a name (`forward`, as in
 * Fluent Bit), the kind-qualified key (`output:forward`) names the one the plain name does not.
 */
export type PluginRegistry = ReadonlyMap<string, AnyPlugin>;

/** The plugin of this kind a config names. */
export function lookupPlugin(registry: PluginRegistry, kind: AnyPlugin['kind'], name: string): AnyPlugin | undefined {
  const qualified = registry.get(`${kind}:${name}`);
  if (qualified?.kind === kind) return qualified;
  const plain = registry.get(name);
  return plain?.kind === kind ? plain : undefined;
}

/** A registry of these plugins: each under its name (the first of a name wins) and under `kind:name`. */
export function pluginRegistry(plugins: readonly AnyPlugin[]): PluginRegistry {
  const registry = new Map<string, AnyPlugin>();
  for (const p of plugins) {
    registry.set(`${p.kind}:${p.name}`, p);
    if (!registry.has(p.name)) registry.set(p.name, p);
  }
  return registry;
}

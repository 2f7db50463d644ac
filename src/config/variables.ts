/**
 * `${NAME}` and `${NAME:-default}` in values, as Fluent Bit replaces them: from the config's own
 * variables (`@SET`, YAML `env`; the last definition wins), then the environment, then the predefined
 * `HOSTNAME`. A default is used when the variable is unset or empty. Unlike Fluent Bit, which warns
 * and puts an empty string, an unset variable without a default is an error: a config that names a
 * variable means it to be set.
 */
import { hostname } from 'node:os';
import { CONFIG_LIMITS, formatBytes } from './limits.js';
import type { ConfigValue, ConfigVariable } from './model.js';

const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_.-]*)(?::-([^}]*))?\}/g;

export class Variables {
  private readonly defined = new Map<string, string>();
  /** Characters replacements have added so far, against CONFIG_LIMITS.expandedTotalChars. */
  private added = 0;

  constructor(
    variables: readonly ConfigVariable[],
    private readonly environment: NodeJS.ProcessEnv,
    /** How the config sets variables, for the error message: `env` or `@SET`. */
    private readonly setBy: string,
    /** Fluentd's configs have no `${NAME}` (their `${tag}` is the plugins'): values are kept as written. */
    private readonly literal = false,
  ) {
    for (const v of variables) this.defined.set(v.name, v.value);
  }

  get(name: string): string | undefined {
    const v = this.defined.get(name) ?? this.environment[name];
    if (v === undefined && name === 'HOSTNAME') return hostname();
    return v;
  }

  /** The value with its variables replaced, or why it cannot be. */
  expand(value: string): { value: string } | { error: string } {
    if (this.literal || !value.includes('${')) return { value };
    let out = '';
    let last = 0;
    for (const m of value.matchAll(REFERENCE)) {
      const [whole, name, fallback] = m as unknown as [string, string, string | undefined];
      let v = this.get(name);
      if (fallback !== undefined && (v === undefined || v === '')) v = fallback;
      if (v === undefined) return { error: `variable '${name}' is not set (in ${this.setBy} or the environment)` };
      const piece = value.slice(last, m.index);
      if (out.length + piece.length + v.length > CONFIG_LIMITS.expandedValueChars) {
        return { error: `the value grows past ${formatBytes(CONFIG_LIMITS.expandedValueChars)} once its variables are replaced (at '${whole}')` };
      }
      out += piece + v;
      last = m.index! + whole.length;
    }
    const rest = value.slice(last);
    if (out.length + rest.length > CONFIG_LIMITS.expandedValueChars) {
      return { error: `the value grows past ${formatBytes(CONFIG_LIMITS.expandedValueChars)} once its variables are replaced` };
    }
    const result = out + rest;
    this.added += Math.max(0, result.length - value.length);
    if (this.added > CONFIG_LIMITS.expandedTotalChars) {
      return { error: `replacing variables has added more than ${formatBytes(CONFIG_LIMITS.expandedTotalChars)} to the config` };
    }
    return { value: result };
  }

  /** Replaces variables in every string of a value (lists and maps included); the first error stops it. */
  expandDeep(value: ConfigValue): { value: ConfigValue } | { error: string } {
    if (typeof value === 'string') return this.expand(value);
    if (Array.isArray(value)) {
      const out: ConfigValue[] = [];
      for (const v of value) {
        const r = this.expandDeep(v);
        if ('error' in r) return r;
        out.push(r.value);
      }
      return { value: out };
    }
    if (value !== null && typeof value === 'object') {
      const out: { [key: string]: ConfigValue } = {};
      for (const [k, v] of Object.entries(value)) {
        const r = this.expandDeep(v);
        if ('error' in r) return r;
        out[k] = r.value;
      }
      return { value: out };
    }
    return { value };
  }
}

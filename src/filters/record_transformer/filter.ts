/**
 * Fluentd's record_transformer (lib/fluent/plugin/filter_record_transformer.rb): each record is the
 * incoming one (or an empty one with renew_record, plus keep_keys), then the `<record>` keys expanded
 * and merged in (Hash#merge!: a key already there keeps its place, its value replaced; new keys last),
 * then the time from renew_time_key, then remove_keys deleted.
 */
import { hostname } from 'node:os';
import type { ResolvedOptions } from '../../config/options.js';
import { NS_PER_SECOND, type LogEvent } from '../../core/event.js';
import type { Filter, PluginContext } from '../../core/plugin.js';
import { deleteFluentd } from '../common/fluentd-accessor.js';
import { recordTransformerConfig, type RecordTransformerConfig } from './options.js';
import { ExpandError, compileTemplate, type Template, type TemplateOptions, type TemplateScope } from './templates.js';

/** A `<record>` value compiled: a template, a map or array of them, or a constant. */
type Compiled = { kind: 'template'; t: Template } | { kind: 'map'; entries: Array<[Template, Compiled]> } | { kind: 'array'; items: Compiled[] } | { kind: 'constant'; value: unknown };

export class RecordTransformerFilter implements Filter {
  private readonly config: RecordTransformerConfig;
  private readonly entries: Array<[Template, Compiled]>;
  private readonly hostname = hostname();
  private readonly warned = new Set<string>();
  private scopeTag: string | undefined;
  private scope: TemplateScope | undefined;

  constructor(options: ResolvedOptions, private readonly ctx: PluginContext) {
    this.config = recordTransformerConfig(options);
    this.entries = compileRecordMap(this.config, (placeholder) => this.unknown(placeholder));
  }

  process(events: LogEvent[]): LogEvent[] {
    let kept: LogEvent[] | undefined;
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      try {
        this.transform(event);
        kept?.push(event);
      } catch (err) {
        if (!(err instanceof ExpandError)) throw err;
        kept ??= events.slice(0, i);
        this.warnOnce(`error:${err.message}`, { tag: event.tag, error: err.message }, 'record_transformer: a template failed on a record (Fluentd sends it to its error stream): dropped (logged once per error)');
      }
    }
    return kept ?? events;
  }

  private transform(event: LogEvent): void {
    const scope = this.scopeFor(event.tag);
    const record = event.record;
    scope.record = record;
    scope.time = rubyTime(event.time);
    const c = this.config;
    let out: Record<string, unknown>;
    if (c.renewRecord) {
      out = {};
      for (const k of c.keepKeys) if (Object.hasOwn(record, k)) out[k] = record[k];
    } else {
      out = {};
      for (const k in record) out[k] = record[k];
    }
    // Every value is expanded from the incoming record first, then merged (expand_placeholders, then merge!).
    const added: Array<[string, unknown]> = [];
    for (const [key, value] of this.entries) added.push([String(key(scope)), expand(value, scope)]);
    for (const [k, v] of added) out[k] = v;
    if (c.renewTimeKey !== undefined && Object.hasOwn(out, c.renewTimeKey)) event.time = secondsToNs(out[c.renewTimeKey], c.renewTimeKey);
    for (const keys of c.removeKeys) deleteFluentd(out, keys);
    event.record = out;
  }

  private scopeFor(tag: string): TemplateScope {
    if (this.scope !== undefined && this.scopeTag === tag) return this.scope;
    const parts = tag.split('.');
    const prefix: string[] = [];
    for (let i = 0; i < parts.length; i++) prefix.push(i === 0 ? parts[0]! : `${prefix[i - 1]}.${parts[i]}`);
    const suffix: string[] = new Array<string>(parts.length);
    for (let i = parts.length - 1; i >= 0; i--) suffix[i] = i === parts.length - 1 ? parts[i]! : `${parts[i]}.${suffix[i + 1]}`;
    this.scopeTag = tag;
    this.scope = { tag, tagParts: parts, tagPrefix: prefix, tagSuffix: suffix, hostname: this.hostname, time: '', record: {} };
    return this.scope;
  }

  private unknown(placeholder: string): void {
    this.warnOnce(`unknown:${placeholder}`, { placeholder }, 'record_transformer: unknown placeholder found (nil put in its place, as Fluentd does; logged once)');
  }

  private warnOnce(key: string, fields: Record<string, unknown>, message: string): void {
    if (this.warned.has(key) || this.warned.size > 1000) return;
    this.warned.add(key);
    this.ctx.log.warn(fields, message);
  }
}

/** Compiles the `<record>` map; throws (TemplateError) on an enable_ruby expression floki cannot run. */
export function compileRecordMap(config: RecordTransformerConfig, unknown: (placeholder: string) => void): Array<[Template, Compiled]> {
  const options: TemplateOptions = { enableRuby: config.enableRuby, autoTypecast: config.autoTypecast, unknown };
  const compile = (value: unknown): Compiled => {
    if (typeof value === 'string') return { kind: 'template', t: compileTemplate(value, options) };
    if (Array.isArray(value)) return { kind: 'array', items: value.map(compile) };
    if (value !== null && typeof value === 'object') {
      return { kind: 'map', entries: Object.entries(value as Record<string, unknown>).map(([k, v]) => [compileTemplate(k, options, true), compile(v)]) };
    }
    return { kind: 'constant', value };
  };
  return config.record.map(([k, v]) => [compileTemplate(k, options, true), compile(v)]);
}

function expand(c: Compiled, scope: TemplateScope): unknown {
  switch (c.kind) {
    case 'template':
      return c.t(scope);
    case 'constant':
      return c.value;
    case 'array':
      return c.items.map((item) => expand(item, scope));
    case 'map': {
      const out: Record<string, unknown> = {};
      for (const [k, v] of c.entries) out[String(k(scope))] = expand(v, scope);
      return out;
    }
  }
}

/** `Time.at(time).to_s`: `2026-12-02 10:13:00 +0000` in the process's time zone (whole seconds). */
export function rubyTime(ns: bigint): string {
  const d = new Date(Number(ns / 1_000_000n));
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const offset = -d.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  const abs = Math.abs(offset);
  return `${pad(d.getFullYear(), 4)}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${sign}${pad(Math.floor(abs / 60))}${pad(abs % 60)}`;
}

/** `Time.at(value.to_f)` as an EventTime: String#to_f reads a leading number (else 0), nil is 0. */
export function secondsToNs(value: unknown, key: string): bigint {
  let f: number;
  if (typeof value === 'number') f = value;
  else if (typeof value === 'bigint') return value * NS_PER_SECOND;
  else if (value === null || value === undefined) f = 0;
  else if (typeof value === 'string') {
    const m = /^\s*[-+]?(\d[\d_]*)?(\.\d+)?([eE][-+]?\d+)?/.exec(value);
    f = m !== null && (m[1] !== undefined || m[2] !== undefined) ? Number(m[0].replace(/_/g, '')) : 0;
    if (!Number.isFinite(f)) f = 0;
  } else throw new ExpandError(`renew_time_key ${key}: undefined method 'to_f' for ${Array.isArray(value) ? 'an Array' : typeof value}`);
  const sec = Math.floor(f);
  const frac = Math.floor((f - sec) * 1e9);
  return BigInt(sec) * NS_PER_SECOND + BigInt(frac);
}

/**
 * One Fluentd directive or section being mapped: its parameters and sections are taken one by one,
 * and whatever was not taken is refused at the end, by name, with the directive, file and line. A
 * parameter is either mapped, ignored with a warning (it changes nothing floki delivers), or refused:
 * one floki does not know could change what is delivered, so it is never passed over in silence.
 */
import type { ConfigEntry, ConfigModel, ConfigValue, PluginKind, PluginSection } from '../../../model.js';
import type { FluentdElement, FluentdParam } from '../tree.js';

/** Where a mapped plugin's problems and warnings go. */
export class MapReport {
  constructor(readonly model: ConfigModel) {}

  refuse(at: { file: string; line: number }, name: string, reason: string): void {
    this.model.refused.push({ name, file: at.file, line: at.line, reason });
  }

  /** Something accepted without effect: `<name> is ignored by floki (<reason>)`. */
  warn(at: { file: string; line: number }, name: string, reason: string): void {
    this.model.ignored.push({ name, file: at.file, line: at.line, reason });
  }

  /** A warning about something kept, shown as it is. */
  note(at: { file: string; line: number }, message: string): void {
    (this.model.warnings ??= []).push({ file: at.file, line: at.line, message });
  }
}

/** Fluentd's parameters every plugin takes, handled by the mapper itself. */
const RESERVED = new Set(['@type', '@id', '@label', '@log_level']);

export class Directive {
  private readonly taken = new Set<string>();
  private readonly takenSections = new Set<FluentdElement>();

  constructor(
    readonly el: FluentdElement,
    /** How messages name it: `<source> @type tail`, `<match **> @type loki <buffer>`. */
    readonly what: string,
    readonly report: MapReport,
  ) {}

  /** The parameter, marked as taken. `use_default` counts as not given. */
  param(key: string): FluentdParam | undefined {
    this.taken.add(key);
    const p = this.el.params.find((x) => x.key === key);
    if (p === undefined || p.unset === 'default') return undefined;
    return p;
  }

  str(key: string): string | undefined {
    const p = this.param(key);
    return p === undefined || p.value === null ? undefined : p.value;
  }

  /** Fluentd's bool: `true`/`yes`/empty for true (a key alone on its line), `false`/`no` for false. */
  bool(key: string, fallback: boolean): boolean {
    const p = this.param(key);
    if (p === undefined || p.value === null) return fallback;
    const v = p.value.trim().toLowerCase();
    if (v === '' || v === 'true' || v === 'yes') return true;
    if (v === 'false' || v === 'no') return false;
    this.report.refuse(p, `${this.what}: ${key}`, `'${p.value}' is not a boolean (true or false)`);
    return fallback;
  }

  has(key: string): boolean {
    return this.param(key) !== undefined;
  }

  /** Marks parameters as accepted without effect, each given one warned about. */
  ignore(keys: readonly string[], reason: string): void {
    for (const key of keys) {
      const p = this.param(key);
      if (p !== undefined) this.report.warn(p, `${this.what}: ${key}`, reason);
    }
  }

  /** Marks parameters as accepted silently (their value is floki's own behaviour already). */
  accept(keys: readonly string[]): void {
    for (const key of keys) this.taken.add(key);
  }

  /** Refuses a parameter if it is given (and, with `unless`, its value is not that harmless one). */
  refuseIf(key: string, reason: string, harmless?: (value: string) => boolean): void {
    const p = this.param(key);
    if (p === undefined || p.value === null) return;
    if (harmless && harmless(p.value.trim())) return;
    this.report.refuse(p, `${this.what}: ${key} ${p.value}`.trim(), reason);
  }

  sections(name: string): FluentdElement[] {
    const list = this.el.elements.filter((e) => e.name === name);
    for (const e of list) this.takenSections.add(e);
    return list;
  }

  section(name: string): FluentdElement | undefined {
    const list = this.sections(name);
    for (const extra of list.slice(1)) this.report.refuse(extra, `${this.what}: a second <${name}>`, 'floki takes one');
    return list[0];
  }

  /** Refuses every parameter and section not taken. */
  finish(): void {
    for (const p of this.el.params) {
      if (this.taken.has(p.key) || RESERVED.has(p.key)) continue;
      this.report.refuse(p, `${this.what}: parameter '${p.key}'`, 'floki does not map it, and it may change what is delivered');
    }
    for (const e of this.el.elements) {
      if (this.takenSections.has(e)) continue;
      this.report.refuse(e, `${this.what}: section <${e.name}${e.arg ? ` ${e.arg}` : ''}>`, 'floki does not map it');
    }
  }
}

/** A floki plugin section being built from a directive. */
export class FlokiSection {
  readonly section: PluginSection;

  constructor(kind: PluginKind, name: string, at: { file: string; line: number }) {
    this.section = { kind, file: at.file, line: at.line, entries: [], processors: [] };
    this.set('name', name, at);
  }

  set(key: string, value: ConfigValue, at: { file: string; line: number }): void {
    const entries = this.section.entries;
    const i = entries.findIndex((e) => e.key === key);
    const entry: ConfigEntry = { key, value, file: at.file, line: at.line };
    if (i >= 0) entries[i] = entry;
    else entries.push(entry);
  }

  /** A list option given once per item (`security.users`, `labels`). */
  add(key: string, value: ConfigValue, at: { file: string; line: number }): void {
    this.section.entries.push({ key, value, file: at.file, line: at.line });
  }

  /** Sets `key` from a parameter when given. */
  from(d: Directive, fluentdKey: string, key: string, convert: (v: string) => ConfigValue = (v) => v): void {
    const p = d.param(fluentdKey);
    if (p === undefined || p.value === null) return;
    this.set(key, convert(p.value), p);
  }

  get(key: string): ConfigValue | undefined {
    return this.section.entries.find((e) => e.key === key)?.value;
  }
}

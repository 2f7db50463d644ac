/**
 * The Fluentd front-end: a Fluentd config (parsed into a tree by ../parser.ts) mapped onto floki's one
 * config model. Inputs, filters and outputs become the same plugin sections the Fluent Bit formats
 * give; Fluentd's routing is expressed with two things the engine offers (see PluginInstanceConfig):
 *
 * - **first match wins**: each `<match>`'s tag pattern is compiled with a negative lookahead of every
 *   `<match>` before it in the same label, so an event matches one `<match>` at most; a `<filter>`
 *   likewise excludes the tags an earlier `<match>` took (Fluentd applies a filter only before the
 *   first matching `<match>`). Plain `match_regex`, nothing new in the engine.
 * - **labels**: each `<label @NAME>` is a route group; a source's `@label` sets its input's group, and
 *   `relabel` (or a `copy` store of one) is an output whose events go on into another group.
 *
 * Every refusal and warning names the directive, file and line (model.refused / model.ignored).
 */
import type { ConfigFiles } from '../../../files.js';
import { ConfigError } from '../../../errors.js';
import { emptyModel, type ConfigModel } from '../../../model.js';
import type { FrontEndResult } from '../../front-end.js';
import { parseFluentdText } from '../parser.js';
import { fluentdTagPatternSource, TagPatternError } from '../tag-pattern.js';
import type { FluentdElement } from '../tree.js';
import { Directive, FlokiSection, MapReport } from './directive.js';
import { mapFilter } from './filters.js';
import { mapSource } from './inputs.js';
import { mapStore, type OutputMapContext } from './outputs.js';

export interface FluentdReadOptions {
  env?: Readonly<Record<string, string | undefined>>;
  hostname?: string;
}

/** Labels Fluentd defines for itself: floki has no such streams, so only dropping is accepted there. */
const BUILTIN_LABELS: Record<string, string> = {
  '@FLUENT_LOG': "floki's own log is not an event stream",
  '@ERROR': 'floki has no error stream',
};

/** A `<filter>` or `<match>` of one label, in file order. */
interface Routed {
  kind: 'filter' | 'match';
  pattern: string;
  at: FluentdElement;
  sections: FlokiSection[];
}

export function readFluentdConfig(path: string, files: ConfigFiles, options: FluentdReadOptions = {}): FrontEndResult {
  const model = emptyModel(path, 'fluentd');
  let tree;
  try {
    const text = files.read(path);
    tree = parseFluentdText(text, path, { ...(options.env ? { env: options.env } : {}), ...(options.hostname ? { hostname: options.hostname } : {}) });
  } catch (err) {
    if (err instanceof ConfigError) return { model, problems: err.problems };
    const message = (err as Error).message;
    return { model, problems: [{ file: path, line: 1, message }] };
  }
  model.files.push(...tree.files);
  model.warnings = tree.warnings.map((w) => ({ file: w.file, line: w.line, message: w.message }));
  new FluentdMapper(model, files).map(tree.root);
  // Refusals go into the model, so that they are reported with the plugins' own problems, all at once.
  return { model, problems: [] };
}

class FluentdMapper {
  private readonly report: MapReport;
  private readonly ctx: OutputMapContext;
  /** Filters and matches by label ('' for the top level), in file order. */
  private readonly groups = new Map<string, Routed[]>();
  /** Labels each label relabels to, to refuse cycles. */
  private readonly relabels = new Map<string, { to: string; at: FluentdElement }[]>();
  private readonly labelsUsed: { name: string; at: { file: string; line: number } }[] = [];
  private relabelCount = 0;

  constructor(
    private readonly model: ConfigModel,
    files: ConfigFiles,
  ) {
    this.report = new MapReport(model);
    this.ctx = { model, report: this.report, files };
  }

  map(root: FluentdElement): void {
    this.top(root.elements);
    for (const p of root.params) this.report.refuse(p, `top-level parameter '${p.key}'`, 'Fluentd takes only directives at the top level');
    this.checkLabels();
    for (const [group, items] of this.groups) this.route(group, items);
  }

  private top(elements: FluentdElement[]): void {
    for (const el of elements) {
      switch (el.name) {
        case 'source':
          this.source(el);
          break;
        case 'filter':
        case 'match':
          this.routed(el, '');
          break;
        case 'label':
          this.label(el);
          break;
        case 'system':
          this.system(el);
          break;
        case 'worker':
          if (el.arg.trim() === '0' || el.arg.trim() === '0-0') this.top(el.elements);
          else this.report.refuse(el, `<worker ${el.arg}>`, 'floki is one process: only <worker 0> runs');
          break;
        default:
          this.report.refuse(el, `<${el.name}>`, 'not a Fluentd directive floki knows (source, filter, match, label, system, worker)');
      }
    }
  }

  private source(el: FluentdElement): void {
    const s = mapSource(el, this.model, this.report);
    if (s === undefined) return;
    const label = el.params.find((p) => p.key === '@label');
    if (label?.value) {
      s.section.routeGroup = label.value;
      this.labelsUsed.push({ name: label.value, at: label });
    }
    this.model.inputs.push(s.section);
  }

  private label(el: FluentdElement): void {
    const name = el.arg.trim();
    if (!name.startsWith('@')) {
      this.report.refuse(el, `<label ${name}>`, "a label's name starts with @");
      return;
    }
    if (BUILTIN_LABELS[name] !== undefined) {
      const onlyDrops = el.elements.every((e) => e.name === 'match' && e.params.find((p) => p.key === '@type')?.value === 'null');
      if (onlyDrops) {
        this.report.warn(el, `<label ${name}>`, `accepted: it only drops, and ${BUILTIN_LABELS[name]}`);
        return;
      }
      this.report.refuse(el, `<label ${name}>`, `${BUILTIN_LABELS[name]}; only @type null is accepted in it`);
      return;
    }
    if (this.groups.has(name)) this.report.refuse(el, `<label ${name}>`, 'the label is defined twice');
    this.groups.set(name, this.groups.get(name) ?? []);
    for (const p of el.params) this.report.refuse(p, `<label ${name}>: parameter '${p.key}'`, 'a label holds only <filter> and <match>');
    for (const child of el.elements) {
      if (child.name === 'filter' || child.name === 'match') this.routed(child, name);
      else this.report.refuse(child, `<label ${name}> <${child.name}>`, 'a label holds only <filter> and <match>');
    }
  }

  private routed(el: FluentdElement, group: string): void {
    const list = this.groups.get(group) ?? [];
    this.groups.set(group, list);
    if (el.name === 'filter') {
      list.push({ kind: 'filter', pattern: el.arg, at: el, sections: mapFilter(el, this.model, this.report) });
      return;
    }
    const type = el.params.find((p) => p.key === '@type')?.value;
    const where = `<match ${el.arg}>`;
    const sections: FlokiSection[] = [];
    const store = (st: FluentdElement, what: string) => {
      const m = mapStore(st, what, this.ctx);
      if (m === undefined) return;
      if ('output' in m) sections.push(m.output);
      else {
        // Carried by a null output the engine never writes to; named apart from the user's null outputs.
        const out = new FlokiSection('output', 'null', m.at);
        out.set('alias', `relabel.${this.relabelCount++}`, m.at);
        out.section.relabel = m.relabel;
        sections.push(out);
        this.labelsUsed.push({ name: m.relabel, at: m.at });
        this.relabels.set(group, [...(this.relabels.get(group) ?? []), { to: m.relabel, at: m.at }]);
      }
    };
    if (type === 'copy') {
      const d = new Directive(el, `${where} @type copy`, this.report);
      d.param('@type');
      d.ignore(['copy_mode', 'deep_copy', '@id'], 'floki never shares a record between outputs that change it');
      d.refuseIf('ignore_error', 'floki has no per-store error handling', (v) => v === 'false');
      const stores = d.sections('store');
      if (stores.length === 0) this.report.refuse(el, `${where} @type copy`, 'it has no <store>');
      for (const st of stores) {
        if (st.arg.trim() !== '' && st.arg.trim() !== 'ignore_error') this.report.refuse(st, `${where} <store ${st.arg}>`, 'unknown store argument');
        store(st, `${where} <store>`);
      }
      d.finish();
    } else store(el, where);
    list.push({ kind: 'match', pattern: el.arg, at: el, sections });
  }

  private system(el: FluentdElement): void {
    const d = new Directive(el, '<system>', this.report);
    const entries = [];
    const level = d.param('log_level');
    // Fluentd's levels are Fluent Bit's, and `fatal`, which floki's `error` covers.
    if (level?.value) entries.push({ key: 'log_level', value: level.value === 'fatal' ? 'error' : level.value, file: level.file, line: level.line });
    const root = d.param('root_dir');
    if (root?.value) entries.push({ key: 'storage.path', value: root.value, file: root.file, line: root.line });
    const workers = d.param('workers');
    if (workers?.value && workers.value.trim() !== '1') this.report.refuse(workers, `<system> workers ${workers.value}`, 'floki is one process');
    d.ignore(['suppress_repeated_stacktrace', 'emit_error_log_interval', 'suppress_config_dump', 'without_source', 'log_event_verbose', 'ignore_repeated_log_interval', 'ignore_same_log_interval', 'suppress_log_ignore_warning', 'dir_permission', 'file_permission', 'process_name', 'enable_input_metrics', 'enable_size_metrics', 'enable_msgpack_time_support', 'rpc_endpoint', 'enable_get_dump', 'umask', 'strict_config_value', 'disable_shared_socket', 'format', 'time_format', 'enable_jit'], "it concerns Fluentd's own process or log");
    for (const log of d.sections('log')) this.report.warn(log, '<system> <log>', "floki's own log is JSON lines on stderr");
    d.finish();
    if (entries.length > 0) this.model.service.push({ file: el.file, line: el.line, entries });
  }

  /** Labels named by `@label` and `relabel` must exist; relabels must not loop. */
  private checkLabels(): void {
    for (const used of this.labelsUsed) {
      if (!this.groups.has(used.name) && BUILTIN_LABELS[used.name] === undefined) this.report.refuse(used.at, `@label ${used.name}`, 'no <label> of that name');
    }
    const visiting = new Set<string>();
    const done = new Set<string>();
    const walk = (group: string): void => {
      if (done.has(group)) return;
      visiting.add(group);
      for (const r of this.relabels.get(group) ?? []) {
        if (visiting.has(r.to)) this.report.refuse(r.at, `relabel to ${r.to}`, 'the labels relabel in a loop');
        else walk(r.to);
      }
      visiting.delete(group);
      done.add(group);
    };
    for (const g of this.relabels.keys()) walk(g);
  }

  /** Compiles each filter's and match's pattern with first-match-wins, and adds them to the model. */
  private route(group: string, items: Routed[]): void {
    const earlier: string[] = [];
    for (const item of items) {
      let own: string;
      try {
        own = fluentdTagPatternSource(item.pattern);
      } catch (err) {
        if (!(err instanceof TagPatternError)) throw err;
        this.report.refuse(item.at, `<${item.kind} ${item.pattern}>`, err.message);
        continue;
      }
      const regex = earlier.length === 0 ? own : `(?!${earlier.map((e) => `(?:${e})`).join('|')})(?:${own})`;
      for (const s of item.sections) {
        s.set('match_regex', regex, item.at);
        if (group !== '') s.section.routeGroup = group;
        (item.kind === 'filter' ? this.model.filters : this.model.outputs).push(s.section);
      }
      if (item.kind === 'match') earlier.push(own);
    }
  }
}

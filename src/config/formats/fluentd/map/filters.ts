/** Fluentd's `<filter>` plugins as floki filters (README "Coming from Fluentd", Filters). */
import type { ConfigModel } from '../../../model.js';
import type { FluentdElement } from '../tree.js';
import { Directive, FlokiSection, type MapReport } from './directive.js';
import { mapParse } from './parse.js';
import { accessorOf, durationOf, listOf, msText, regexBody } from './values.js';

/** Maps one `<filter PATTERN>` (its match is set by the router); undefined when refused. */
export function mapFilter(el: FluentdElement, model: ConfigModel, report: MapReport): FlokiSection[] {
  const type = el.params.find((p) => p.key === '@type')?.value ?? '';
  const what = `<filter ${el.arg}> @type ${type}`;
  const d = new Directive(el, what, report);
  d.param('@type');
  let s: FlokiSection | FlokiSection[] | undefined;
  switch (type) {
    case 'kubernetes_metadata':
      s = kubernetes(d);
      break;
    case 'record_transformer':
      s = recordTransformer(d);
      break;
    case 'grep':
      s = grep(d);
      break;
    case 'parser':
      s = parser(d, model, report);
      break;
    case 'concat':
      s = concat(d);
      break;
    case 'stdout':
      s = new FlokiSection('filter', 'stdout', el);
      s.set('format', 'fluentd', el);
      d.ignore(['output_type'], "the stdout filter prints each event as Fluentd's does");
      if (d.sections('format').length > 0) report.warn(el, `${what} <format>`, "the stdout filter prints each event as Fluentd's does");
      break;
    case '':
      report.refuse(el, `<filter ${el.arg}>`, 'it has no @type');
      return [];
    default:
      report.refuse(d.param('@type') ?? el, what, 'floki has no such filter (kubernetes_metadata, record_transformer, grep, parser, concat and stdout are mapped)');
      return [];
  }
  const list = Array.isArray(s) ? s : [s];
  const id = d.param('@id');
  if (id?.value) list.forEach((x, i) => x.set('alias', i === 0 ? id.value! : `${id.value}.${i}`, id));
  d.ignore(['@log_level'], "floki has one log level, the service's");
  d.ignore(['@label'], 'this filter emits no events into a label');
  d.finish();
  return list;
}

function kubernetes(d: Directive): FlokiSection {
  const s = new FlokiSection('filter', 'kubernetes', d.el);
  s.set('record_layout', 'fluentd', d.el);
  const nonEmpty = (key: string, to: string) => {
    const p = d.param(key);
    if (p?.value) s.set(to, p.value, p);
  };
  nonEmpty('kubernetes_url', 'kube_url');
  nonEmpty('ca_file', 'kube_ca_file');
  nonEmpty('bearer_token_file', 'kube_token_file');
  const verify = d.param('verify_ssl');
  if (verify?.value) s.set('tls.verify', verify.value === 'false' ? 'off' : 'on', verify);
  for (const key of ['skip_labels', 'skip_pod_labels', 'skip_namespace_labels', 'skip_container_metadata', 'skip_master_url', 'skip_namespace_metadata', 'include_ownerrefs_metadata', 'allow_orphans', 'orphaned_namespace_name', 'orphaned_namespace_id', 'de_dot', 'de_dot_separator', 'tag_to_kubernetes_name_regexp']) nonEmpty(key, key);
  const annotations = d.param('annotation_match');
  if (annotations?.value) s.set('annotation_match', listOf(annotations.value), annotations);
  nonEmpty('cache_size', 'kube_meta_cache_size');
  const ttl = d.param('cache_ttl');
  if (ttl?.value) s.set('kube_meta_cache_ttl', msText(durationOf(ttl.value) ?? 3600000), ttl);
  d.ignore(['watch', 'watch_retry_interval', 'watch_retry_exponential_backoff_base', 'watch_retry_max_times', 'stats_interval', 'open_timeout', 'read_timeout', 'apiVersion', 'api_version'], "floki's kubernetes client keeps a watch of the node's pods");
  d.refuseIf('client_cert', "floki authenticates with the service account's token");
  d.refuseIf('client_key', "floki authenticates with the service account's token");
  d.refuseIf('use_journal', 'floki reads the metadata from the tag (container log files)', (v) => v === 'false' || v === '');
  d.refuseIf('lookup_from_k8s_field', 'not supported by floki', (v) => v === 'true');
  d.refuseIf('ssl_partial_chain', 'not supported by floki', (v) => v === 'false');
  return s;
}

function recordTransformer(d: Directive): FlokiSection {
  const s = new FlokiSection('filter', 'record_transformer', d.el);
  const rec = d.section('record');
  if (rec) {
    const map: Record<string, string> = {};
    for (const p of rec.params) map[p.key] = p.value ?? '';
    s.set('record', map, rec);
    for (const e of rec.elements) d.report.refuse(e, `${d.what} <record> <${e.name}>`, 'not supported by floki');
  }
  for (const key of ['remove_keys', 'keep_keys', 'renew_record', 'renew_time_key', 'enable_ruby', 'auto_typecast']) s.from(d, key, key);
  return s;
}

/**
 * Fluentd's grep keeps a record when every `<regexp>` matches and no `<exclude>` does (and each
 * `<and>`/`<or>` block holds too). floki's grep combines rules of one kind with one logical_op, so the
 * conditions become grep filters one after the other (a record must pass them all, as in Fluentd).
 */
function grep(d: Directive): FlokiSection[] {
  type Rule = { kind: 'regex' | 'exclude'; value: string; at: { file: string; line: number } };
  const rule = (kind: Rule['kind'], key: string, pattern: string, at: Rule['at']): Rule => {
    // floki's regexes are Ruby's (Onigmo, translated): flags after the last `/` are kept.
    const { source, flags } = regexBody(pattern);
    return { kind, value: `${accessorOf(key)} ${flags ? `/${source}/${flags}` : source}`, at };
  };
  const rulesOf = (el: FluentdElement, where: string): Rule[] => {
    const out: Rule[] = [];
    const ed = el === d.el ? d : new Directive(el, where, d.report);
    for (const [section, kind] of [
      ['regexp', 'regex'],
      ['exclude', 'exclude'],
    ] as const) {
      for (const r of ed.sections(section)) {
        const rd = new Directive(r, `${where} <${section}>`, d.report);
        const key = rd.str('key');
        const pattern = rd.str('pattern');
        if (key === undefined || pattern === undefined) d.report.refuse(r, `${where} <${section}>`, 'it needs key and pattern');
        else out.push(rule(kind, key, pattern, r));
        rd.finish();
      }
    }
    if (el !== d.el) ed.finish();
    return out;
  };
  const top = rulesOf(d.el, d.what);
  for (const p of d.el.params) {
    const m = /^(regexp|exclude)(\d+)$/.exec(p.key);
    if (!m || p.value === null) continue;
    d.param(p.key);
    const at = p.value.indexOf(' ');
    if (at < 0) d.report.refuse(p, `${d.what}: ${p.key}`, "it needs 'KEY PATTERN'");
    else top.push(rule(m[1] === 'regexp' ? 'regex' : 'exclude', p.value.slice(0, at), p.value.slice(at + 1).trim(), p));
  }
  // Every regexp must match (and); any exclude drops (or).
  const groups: { op: 'and' | 'or'; rules: Rule[] }[] = [
    { op: 'and', rules: top.filter((r) => r.kind === 'regex') },
    { op: 'or', rules: top.filter((r) => r.kind === 'exclude') },
  ];
  for (const block of [...d.sections('and'), ...d.sections('or')]) {
    const rules = rulesOf(block, `${d.what} <${block.name}>`);
    const kinds = new Set(rules.map((r) => r.kind));
    if (kinds.size > 1) d.report.refuse(block, `${d.what} <${block.name}>`, 'it mixes <regexp> and <exclude>');
    else if (rules.length > 0) groups.push({ op: block.name as 'and' | 'or', rules });
  }
  const sections: FlokiSection[] = [];
  for (const g of groups) {
    if (g.rules.length === 0) continue;
    const s = new FlokiSection('filter', 'grep', d.el);
    s.set('logical_op', g.op, d.el);
    for (const r of g.rules) s.add(r.kind, r.value, r.at);
    sections.push(s);
  }
  if (sections.length === 0) d.report.refuse(d.el, d.what, 'it has no <regexp> or <exclude>');
  return sections;
}

function parser(d: Directive, model: ConfigModel, report: MapReport): FlokiSection {
  const s = new FlokiSection('filter', 'parser', d.el);
  // filter_parser's own record rules (reserve_data merge, remove_key_name_field, reserve_time, unparsed records).
  s.set('record_layout', 'fluentd', d.el);
  for (const key of ['key_name', 'reserve_data', 'reserve_time', 'remove_key_name_field', 'inject_key_prefix', 'hash_value_field']) s.from(d, key, key);
  // Both concern Fluentd's error stream and invalid byte sequences, which floki has no use for.
  d.accept(['emit_invalid_record_to_error', 'replace_invalid_sequence']);
  const parse = d.section('parse');
  if (parse === undefined) report.refuse(d.el, d.what, 'it has no <parse>');
  else {
    const mapped = mapParse(parse, d.what, report, model, false);
    if (mapped?.parser) s.set('parser', mapped.parser, parse);
  }
  return s;
}

const CONCAT_KEYS = ['key', 'separator', 'n_lines', 'multiline_start_regexp', 'multiline_end_regexp', 'continuous_line_regexp', 'stream_identity_key', 'flush_interval', 'use_first_timestamp', 'partial_key', 'partial_value', 'keep_partial_key', 'use_partial_cri_logtag', 'partial_cri_logtag_key', 'partial_cri_stream_key', 'timeout_label', 'buffer_limit_size', 'buffer_overflow_method', 'use_partial_metadata', 'partial_metadata_format', 'keep_partial_metadata'];

function concat(d: Directive): FlokiSection {
  const s = new FlokiSection('filter', 'concat', d.el);
  for (const key of CONCAT_KEYS) s.from(d, key, key);
  return s;
}

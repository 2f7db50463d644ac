/** Fluentd's `<source>` plugins as floki inputs (README "Coming from Fluentd", Inputs). */
import { normalize } from 'node:path';
import type { ConfigModel } from '../../../model.js';
import type { FluentdElement } from '../tree.js';
import { Directive, FlokiSection, type MapReport } from './directive.js';
import { mapParse } from './parse.js';
import { durationOf, listOf, msText, sizeOf } from './values.js';

/** Sources whose events floki does not need: accepted with a warning. */
const HARMLESS_SOURCES: Record<string, string> = {
  prometheus_output_monitor: "floki's output metrics are always on",
  prometheus_monitor: "floki's own metrics are always on",
  prometheus_tail_monitor: "floki's tail metrics are always on",
  monitor_agent: "floki serves its metrics and health on the service's HTTP server",
};

/** Maps one `<source>`; returns the input's section (undefined when refused or not an input). */
export function mapSource(el: FluentdElement, model: ConfigModel, report: MapReport): FlokiSection | undefined {
  const type = el.params.find((p) => p.key === '@type')?.value ?? '';
  const what = `<source> @type ${type}`;
  const d = new Directive(el, what, report);
  d.param('@type');
  if (HARMLESS_SOURCES[type]) {
    report.warn(el, what, HARMLESS_SOURCES[type]!);
    return undefined;
  }
  let s: FlokiSection | undefined;
  switch (type) {
    case 'forward':
      s = forward(d);
      break;
    case 'tail':
      s = tail(d, model, report);
      break;
    case 'http':
      s = http(d, model, report);
      break;
    case 'dummy':
    case 'sample':
      s = sample(d, type);
      break;
    case 'prometheus':
      prometheus(d, model);
      d.finish();
      return undefined;
    case '':
      report.refuse(el, '<source>', 'it has no @type');
      return undefined;
    default:
      report.refuse(d.param('@type') ?? el, what, `floki has no such input (forward, tail, http, sample, dummy and prometheus are mapped)${type === 'systemd' ? '; the daemonset images: set FLUENTD_SYSTEMD_CONF=disable' : ''}`);
      return undefined;
  }
  const id = d.param('@id');
  if (id?.value) s.set('alias', id.value, id);
  d.ignore(['@log_level'], 'floki has one log level, the service\'s');
  d.finish();
  return s;
}

function tls(d: Directive, s: FlokiSection, where: string): void {
  const t = d.section('transport');
  if (t === undefined) return;
  const td = new Directive(t, `${d.what} <transport ${t.arg}>`, d.report);
  if (t.arg.trim() !== 'tls') {
    td.accept(['linger_timeout']);
    if (t.arg.trim() !== 'tcp' && t.arg.trim() !== '') d.report.refuse(t, `${d.what} <transport ${t.arg}>`, 'floki serves tcp or tls');
    td.finish();
    return;
  }
  s.set('tls', 'on', t);
  s.from(td, 'cert_path', 'tls.crt_file');
  s.from(td, 'private_key_path', 'tls.key_file');
  s.from(td, 'private_key_passphrase', 'tls.key_passwd');
  if (where === 'forward') {
    s.from(td, 'ca_path', 'tls.ca_file');
    const auth = td.param('client_cert_auth');
    if (auth?.value) s.set('tls.verify', auth.value === 'true' ? 'on' : 'off', auth);
  }
  td.ignore(['version', 'min_version', 'max_version', 'ciphers', 'insecure', 'cert_verifier'], 'floki uses Node.js TLS defaults (TLS 1.2 or newer)');
  td.refuseIf('ca_cert_path', 'floki does not generate certificates');
  td.refuseIf('ca_private_key_path', 'floki does not generate certificates');
  td.refuseIf('cert_type', 'floki reads PEM files', (v) => v === 'rsa' || v === 'ec');
  td.finish();
}

function forward(d: Directive): FlokiSection {
  const s = new FlokiSection('input', 'forward', d.el);
  s.from(d, 'port', 'port');
  s.from(d, 'bind', 'listen');
  s.from(d, 'add_tag_prefix', 'tag_prefix', (v) => `${v}.`);
  s.from(d, 'chunk_size_limit', 'buffer_max_size', (v) => String(sizeOf(v) ?? v));
  d.ignore(['linger_timeout', 'resolve_hostname', 'chunk_size_warn_limit', 'send_keepalive_packet', 'deny_keepalive', 'blocking_timeout', 'skip_invalid_event'], 'it changes nothing floki delivers');
  d.refuseIf('source_hostname_key', 'floki does not add the client host name');
  d.refuseIf('source_address_key', 'floki does not add the client address');
  d.refuseIf('tag', 'floki keeps the tag each client sends');
  const sec = d.section('security');
  if (sec) {
    const sd = new Directive(sec, `${d.what} <security>`, d.report);
    s.from(sd, 'shared_key', 'shared_key');
    s.from(sd, 'self_hostname', 'self_hostname');
    if (sd.bool('user_auth', false) && sd.sections('user').length === 0) d.report.refuse(sec, `${d.what} <security> user_auth`, 'it needs <user>s');
    for (const u of sd.sections('user')) {
      const ud = new Directive(u, `${d.what} <security> <user>`, d.report);
      const name = ud.str('username');
      const pass = ud.str('password');
      if (name !== undefined && pass !== undefined) s.add('security.users', `${name} ${pass}`, u);
      ud.finish();
    }
    sd.refuseIf('allow_anonymous_source', 'floki takes any client that knows the shared key', (v) => v === 'true');
    if (sd.sections('client').length > 0) d.report.refuse(sec, `${d.what} <security> <client>`, 'floki does not restrict clients by address');
    sd.finish();
  }
  tls(d, s, 'forward');
  return s;
}

function tail(d: Directive, model: ConfigModel, report: MapReport): FlokiSection {
  const s = new FlokiSection('input', 'tail', d.el);
  const path = d.param('path');
  if (path?.value) {
    if (/%[a-zA-Z]/.test(path.value)) report.refuse(path, `${d.what}: path ${path.value}`, 'time placeholders in paths are not supported by floki');
    s.set('path', listOf(path.value).join(','), path);
  }
  const ex = d.param('exclude_path');
  if (ex?.value) s.set('exclude_path', listOf(ex.value).join(','), ex);
  s.from(d, 'tag', 'tag');
  s.set('read_from_head', d.bool('read_from_head', false) ? 'on' : 'off', d.param('read_from_head') ?? d.el);
  s.from(d, 'rotate_wait', 'rotate_wait', (v) => msText(durationOf(v) ?? 5000));
  s.from(d, 'refresh_interval', 'refresh_interval', (v) => msText(durationOf(v) ?? 60000));
  s.from(d, 'path_key', 'path_key');
  s.from(d, 'limit_recently_modified', 'ignore_older', (v) => msText(durationOf(v) ?? 0));
  s.from(d, 'multiline_flush_interval', 'flush_timeout', (v) => msText(durationOf(v) ?? 5000));
  const pos = d.param('pos_file');
  if (pos?.value) {
    // floki keeps its own positions beside Fluentd's file, seeded from it on the first start.
    const file = normalize(pos.value);
    s.set('db', `${file}.floki`, pos);
    s.set('fluentd_pos_file', file, pos);
  }
  d.accept(['follow_inodes']);
  d.ignore(['pos_file_compaction_interval', 'enable_watch_timer', 'enable_stat_watcher', 'skip_refresh_on_startup', 'read_lines_limit', 'read_bytes_limit_per_second', 'open_on_every_update', 'ignore_repeated_permission_error'], 'floki reads files its own way: this changes nothing delivered');
  const maxLine = d.param('max_line_size');
  if (maxLine?.value) {
    // Fluentd skips a longer line.
    s.set('buffer_max_size', String(sizeOf(maxLine.value) ?? maxLine.value), maxLine);
    s.set('skip_long_lines', 'on', maxLine);
  }
  d.refuseIf('encoding', 'floki reads UTF-8');
  d.refuseIf('from_encoding', 'floki reads UTF-8');
  d.refuseIf('emit_unmatched_lines', 'not supported by floki', (v) => v === 'false');
  d.refuseIf('path_timezone', 'time placeholders in paths are not supported by floki');
  const parse = d.section('parse');
  if (parse === undefined) report.refuse(d.el, d.what, 'it has no <parse> (Fluentd requires one)');
  else {
    const mapped = mapParse(parse, d.what, report, model, true);
    if (mapped?.parser) s.set('parser', mapped.parser, parse);
    if (mapped?.multilineParser) s.set('multiline.parser', mapped.multilineParser, parse);
  }
  return s;
}

function http(d: Directive, model: ConfigModel, report: MapReport): FlokiSection {
  const s = new FlokiSection('input', 'http', d.el);
  s.from(d, 'port', 'port');
  s.from(d, 'bind', 'listen');
  s.from(d, 'body_size_limit', 'buffer_max_size', (v) => String(sizeOf(v) ?? v));
  const remote = d.param('add_remote_addr');
  if (remote?.value === 'true') s.set('add_remote_addr', 'on', remote);
  d.ignore(['keepalive_timeout', 'backlog', 'blocking_timeout', 'use_204_response', 'dump_error_log', 'respond_with_empty_img'], 'it changes nothing floki delivers');
  d.refuseIf('add_http_headers', 'not supported by floki', (v) => v === 'false');
  d.refuseIf('cors_allow_origins', 'not supported by floki');
  d.refuseIf('add_query_params', 'not supported by floki', (v) => v === 'false');
  const parse = d.section('parse');
  if (parse) {
    const pd = new Directive(parse, `${d.what} <parse>`, report);
    pd.refuseIf('@type', 'floki\'s http input takes JSON', (v) => v === 'json');
    pd.accept(['time_key', 'keep_time_key', 'time_format']);
    pd.finish();
  }
  void model;
  tls(d, s, 'http');
  return s;
}

function sample(d: Directive, type: string): FlokiSection {
  const s = new FlokiSection('input', 'dummy', d.el);
  s.from(d, 'tag', 'tag');
  s.from(d, 'rate', 'rate');
  const record = d.param(type) ?? d.param(type === 'sample' ? 'dummy' : 'sample');
  if (record?.value) {
    let value = record.value;
    try {
      const parsed = JSON.parse(value) as unknown;
      if (Array.isArray(parsed)) {
        if (parsed.length !== 1) d.report.refuse(record, `${d.what}: ${record.key} with ${parsed.length} records`, 'floki\'s dummy input repeats one record');
        value = JSON.stringify(parsed[0] ?? {});
      }
    } catch {
      d.report.refuse(record, `${d.what}: ${record.key}`, 'not JSON');
    }
    s.set('dummy', value, record);
  }
  d.refuseIf('size', 'floki emits one record per tick', (v) => v === '1');
  d.refuseIf('auto_increment_key', 'not supported by floki');
  d.ignore(['suspend'], 'floki does not resume sample sequences');
  return s;
}

function prometheus(d: Directive, model: ConfigModel): void {
  const at = { file: d.el.file, line: d.el.line };
  const service = { ...at, entries: [{ key: 'http_server', value: 'on', ...at }] };
  const bind = d.param('bind');
  if (bind?.value) service.entries.push({ key: 'http_listen', value: bind.value, file: bind.file, line: bind.line });
  const port = d.param('port');
  if (port?.value) service.entries.push({ key: 'http_port', value: port.value, file: port.file, line: port.line });
  d.ignore(['metrics_path', 'aggregated_metrics_path', 'content_encoding'], 'floki serves its metrics at /api/v1/metrics/prometheus');
  model.service.push(service);
}

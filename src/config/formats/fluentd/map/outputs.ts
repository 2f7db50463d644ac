/**
 * Fluentd's `<match>` plugins as floki outputs (README "Coming from Fluentd", Outputs), with their
 * `<buffer>`. `copy`, `relabel` and `null` are routing (router.ts calls mapStore for each store).
 */
import type { ConfigFiles } from '../../../files.js';
import type { ConfigModel } from '../../../model.js';
import type { FluentdElement } from '../tree.js';
import { Directive, FlokiSection, type MapReport } from './directive.js';
import { accessorOf, durationOf, hashOf, listOf, msText, sizeOf } from './values.js';

export interface OutputMapContext {
  model: ConfigModel;
  report: MapReport;
  files: ConfigFiles;
}

/** What one `<match>` or `<store>` becomes: an output, a relabel, or nothing (refused). */
export type MappedStore = { output: FlokiSection } | { relabel: string; at: FluentdElement } | undefined;

export function mapStore(el: FluentdElement, where: string, ctx: OutputMapContext): MappedStore {
  const type = el.params.find((p) => p.key === '@type')?.value ?? '';
  const what = `${where} @type ${type}`;
  const d = new Directive(el, what, ctx.report);
  d.param('@type');
  let s: FlokiSection;
  switch (type) {
    case 'relabel': {
      const label = d.param('@label');
      d.finish();
      if (!label?.value) {
        ctx.report.refuse(el, what, 'it needs @label');
        return undefined;
      }
      return { relabel: label.value, at: el };
    }
    case 'null':
      s = new FlokiSection('output', 'null', el);
      d.ignore(['never_flush'], 'floki drops at once');
      if (d.sections('buffer').length > 0) ctx.report.warn(el, `${what} <buffer>`, 'the null output holds nothing');
      break;
    case 'loki':
      s = loki(d, ctx);
      buffer(d, s, ctx, 'loki');
      break;
    case 'forward':
      s = forward(d);
      buffer(d, s, ctx, 'forward');
      break;
    case 'stdout': {
      s = new FlokiSection('output', 'stdout', el);
      // Fluentd's out_stdout line: `time tag: {json}`; with <format json>, the record alone.
      s.set('format', 'fluentd', el);
      const fmt = d.section('format');
      if (fmt) {
        const fd = new Directive(fmt, `${what} <format>`, ctx.report);
        const t = fd.str('@type') ?? 'stdout';
        if (t === 'json') {
          s.set('format', 'json_lines', fmt);
          s.set('json_date_key', 'false', fmt);
        } else if (t !== 'stdout') ctx.report.refuse(fmt, `${what} <format> @type ${t}`, "floki prints Fluentd's stdout line or the record as JSON");
        fd.accept(['output_type']);
        fd.refuseIf('output_type', "floki prints Fluentd's stdout line with JSON", (v) => v === 'json');
        fd.finish();
      }
      d.refuseIf('output_type', "floki prints Fluentd's stdout line with JSON", (v) => v === 'json');
      if (d.sections('buffer').length > 0) ctx.report.warn(el, `${what} <buffer>`, 'floki prints at once');
      break;
    }
    case 'copy':
      ctx.report.refuse(el, what, 'a copy inside a copy is not supported by floki');
      return undefined;
    case '':
      ctx.report.refuse(el, where, 'it has no @type');
      return undefined;
    default:
      ctx.report.refuse(d.param('@type') ?? el, what, 'floki has no such output (loki, forward, stdout, null, copy and relabel are mapped)');
      return undefined;
  }
  const id = d.param('@id');
  if (id?.value) s.set('alias', id.value, id);
  d.ignore(['@log_level'], "floki has one log level, the service's");
  d.ignore(['@label'], 'this output emits no events into a label');
  d.finish();
  return { output: s };
}

/** A Loki label name as the plugin makes it: `.`, `-` and `/` become `_`. */
function labelName(name: string): string {
  return name.replace(/[.\-/]/g, '_');
}

/** fluent-plugin-grafana-loki (grafana/loki clients/cmd/fluentd). */
function loki(d: Directive, ctx: OutputMapContext): FlokiSection {
  const s = new FlokiSection('output', 'loki', d.el);
  const report = ctx.report;
  // The plugin posts to `url` + /loki/api/v1/push; floki's url is the whole push address.
  s.from(d, 'url', 'url', (v) => `${v.replace(/\/+$/, '')}/loki/api/v1/push`);
  s.from(d, 'username', 'http_user');
  s.from(d, 'password', 'http_passwd');
  s.from(d, 'bearer_token_file', 'bearer_token_file');
  const tenant = d.param('tenant');
  if (tenant?.value) {
    // A placeholder is filled per chunk from its chunk key (`<buffer $.a.b>`): per record in floki.
    const placeholder = /^\$\{(.+)\}$/.exec(tenant.value.trim());
    if (placeholder) s.set('tenant_id_key', accessorOf(placeholder[1]!.startsWith('$') ? placeholder[1]! : `$.${placeholder[1]}`), tenant);
    else if (tenant.value.includes('${')) report.refuse(tenant, `${d.what}: tenant ${tenant.value}`, 'floki takes a constant tenant or one ${...} placeholder');
    else s.set('tenant_id', tenant.value, tenant);
  }
  // Labels: <label> blocks (record accessors; the plugin removes those keys from the line, as floki's
  // `labels name=$accessor` does), then extra_labels (constants, which win).
  const labels = new Map<string, string>();
  for (const l of d.sections('label')) {
    const ld = new Directive(l, `${d.what} <label>`, report);
    for (const p of l.params) {
      ld.param(p.key);
      const source = p.value && p.value.trim() !== '' ? p.value.trim() : p.key;
      labels.set(labelName(p.key), source.startsWith('$') ? accessorOf(source) : `$${source}`);
    }
    ld.finish();
  }
  const extra = d.param('extra_labels');
  if (extra?.value) {
    const h = hashOf(extra.value);
    if (h === undefined) report.refuse(extra, `${d.what}: extra_labels`, 'expected a JSON object');
    else for (const [k, v] of Object.entries(h)) labels.set(labelName(k), v);
  }
  // The plugin labels each entry with its flush thread when there are several: floki has one order per stream, so one constant.
  const threads = Number(d.el.elements.find((e) => e.name === 'buffer')?.params.find((p) => p.key === 'flush_thread_count')?.value ?? '1');
  if (d.bool('include_thread_label', true) && threads > 1 && !labels.has('fluentd_thread')) labels.set('fluentd_thread', 'flush_thread_0');
  // floki's loki output has `job=floki` by default; the plugin has no label of its own.
  s.set('labels', [...labels].map(([k, v]) => `${k}=${v}`), d.el);
  if (labels.size === 0 && d.param('extract_kubernetes_labels')?.value !== 'true') report.note(d.el, `${d.what}: no extra_labels and no <label>: Loki refuses a stream without labels (as it refuses the plugin's)`);
  const rk = d.param('remove_keys');
  if (rk?.value) s.set('remove_keys', listOf(rk.value).map((k) => (k.startsWith('$') ? accessorOf(k) : k)), rk);
  const k8s = d.param('extract_kubernetes_labels');
  if (k8s?.value) s.set('extract_kubernetes_labels', k8s.value === 'true' ? 'on' : 'off', k8s);
  const lf = d.param('line_format');
  if (lf?.value && lf.value !== 'json' && lf.value !== 'key_value') report.refuse(lf, `${d.what}: line_format ${lf.value}`, 'json or key_value');
  s.set('line_format', lf?.value === 'json' ? 'json' : 'fluentd_key_value', lf ?? d.el);
  const drop = d.param('drop_single_key');
  if (drop?.value) s.set('drop_single_key', drop.value === 'true' ? 'raw' : 'off', drop);
  s.from(d, 'cert', 'tls.crt_file');
  s.from(d, 'key', 'tls.key_file');
  s.from(d, 'ca_cert', 'tls.ca_file');
  d.refuseIf('ciphers', 'floki uses Node.js TLS defaults (TLS 1.2 or newer, its cipher list)');
  d.refuseIf('min_version', 'floki uses Node.js TLS defaults (TLS 1.2 or newer, its cipher list)');
  const insecure = d.param('insecure_tls');
  if (insecure?.value === 'true') s.set('tls.verify', 'off', insecure);
  if (['tls.crt_file', 'tls.ca_file', 'tls.verify'].some((k) => s.get(k) !== undefined)) s.set('tls', 'on', d.el);
  const headers = d.param('custom_headers');
  if (headers?.value) {
    const h = hashOf(headers.value);
    if (h === undefined) report.refuse(headers, `${d.what}: custom_headers`, 'expected a JSON object or k:v list');
    else s.set('header', Object.entries(h).map(([k, v]) => `${k} ${v}`), headers);
  }
  d.ignore(['compress'], 'floki compresses its pushes its own way (snappy protobuf); Loki stores the same lines and labels');
  return s;
}

function forward(d: Directive): FlokiSection {
  const s = new FlokiSection('output', 'forward', d.el);
  const servers = d.sections('server');
  if (servers.length === 0) d.report.refuse(d.el, d.what, 'it has no <server>');
  servers.forEach((srv, i) => {
    const sd = new Directive(srv, `${d.what} <server>`, d.report);
    if (i > 0) {
      d.report.refuse(srv, `${d.what}: a second <server>`, 'floki sends to one server (or an upstream)');
      return;
    }
    s.from(sd, 'host', 'host');
    s.from(sd, 'port', 'port');
    s.from(sd, 'username', 'username');
    s.from(sd, 'password', 'password');
    s.from(sd, 'shared_key', 'shared_key');
    sd.refuseIf('standby', 'floki has no standby servers', (v) => v === 'false');
    sd.ignore(['name', 'weight'], 'one server');
    sd.finish();
  });
  const sec = d.section('security');
  if (sec) {
    const sd = new Directive(sec, `${d.what} <security>`, d.report);
    s.from(sd, 'shared_key', 'shared_key');
    s.from(sd, 'self_hostname', 'self_hostname');
    sd.ignore(['user_auth'], 'floki sends the <server> username when given');
    sd.finish();
  }
  const transport = d.str('transport');
  if (transport === 'tls') {
    s.set('tls', 'on', d.param('transport')!);
    s.from(d, 'tls_cert_path', 'tls.ca_file');
    const verify = d.param('tls_verify_hostname');
    if (verify?.value === 'false') s.set('tls.verify', 'off', verify);
    const insecure = d.param('tls_insecure_mode');
    if (insecure?.value === 'true') s.set('tls.verify', 'off', insecure);
    s.from(d, 'tls_client_cert_path', 'tls.crt_file');
    s.from(d, 'tls_client_private_key_path', 'tls.key_file');
    s.from(d, 'tls_client_private_key_passphrase', 'tls.key_passwd');
    d.ignore(['tls_version', 'tls_ciphers', 'tls_allow_self_signed_cert'], 'floki uses Node.js TLS defaults');
  } else if (transport !== undefined && transport !== 'tcp') d.report.refuse(d.param('transport')!, `${d.what}: transport ${transport}`, 'tcp or tls');
  const ack = d.param('require_ack_response');
  if (ack?.value) s.set('require_ack_response', ack.value === 'true' ? 'on' : 'off', ack);
  s.from(d, 'ack_response_timeout', 'ack_response_timeout', (v) => msText(durationOf(v) ?? 190000));
  const compress = d.param('compress');
  if (compress?.value === 'gzip') s.set('compress', 'gzip', compress);
  d.ignore(['heartbeat_type', 'heartbeat_interval', 'phi_failure_detector', 'phi_threshold', 'hard_timeout', 'expire_dns_cache', 'dns_round_robin', 'ignore_network_errors_at_startup', 'recover_wait', 'send_timeout', 'connect_timeout', 'keepalive', 'keepalive_timeout', 'verify_connection_at_startup'], 'floki manages its connection its own way');
  return s;
}

/** Fluentd's buffer defaults (lib/fluent/plugin/output.rb, buffer.rb, buf_memory.rb, buf_file.rb). */
const DEFAULTS = {
  flushIntervalMs: 60_000,
  retryWaitMs: 1000,
  retryBase: 2,
  retryTimeoutMs: 72 * 3600 * 1000,
  memoryTotal: 512 * 1024 * 1024,
  fileTotal: 64 * 1024 * 1024 * 1024,
};

/** The retries Fluentd makes within retry_timeout, waits growing from retry_wait by the base up to the max interval. */
export function retriesWithin(timeoutMs: number, waitMs: number, base: number, maxMs: number | undefined): number {
  let total = 0;
  let n = 0;
  let wait = waitMs;
  while (n < 1000) {
    const w = maxMs === undefined ? wait : Math.min(wait, maxMs);
    if (total + w > timeoutMs) break;
    total += w;
    n++;
    wait *= base;
  }
  return Math.max(1, n);
}

function buffer(d: Directive, s: FlokiSection, ctx: OutputMapContext, plugin: 'loki' | 'forward'): void {
  const el = d.section('buffer');
  const at = el ?? d.el;
  const bd = el ? new Directive(el, `${d.what} <buffer${el.arg ? ` ${el.arg}` : ''}>`, ctx.report) : undefined;
  const str = (k: string) => bd?.str(k);
  const type = str('@type') ?? 'memory';
  if (type !== 'memory' && type !== 'file') ctx.report.refuse(at, `${d.what} <buffer> @type ${type}`, 'memory or file');
  const file = type === 'file';
  if (file) {
    s.set('storage.type', 'filesystem', at);
    const path = bd?.param('path');
    if (path?.value) {
      const existing = ctx.model.service.flatMap((x) => x.entries).find((e) => e.key === 'storage.path');
      if (existing === undefined) ctx.model.service.push({ file: path.file, line: path.line, entries: [{ key: 'storage.path', value: path.value, file: path.file, line: path.line }] });
      else if (existing.value !== path.value) ctx.report.warn(path, `${d.what} <buffer> path ${path.value}`, `floki keeps every disk buffer under one folder: ${String(existing.value)} (each output in its own file)`);
    }
  }
  const mode = str('flush_mode');
  const interval = str('flush_interval');
  const flushMs = mode === 'immediate' ? 0 : interval !== undefined ? (durationOf(interval) ?? DEFAULTS.flushIntervalMs) : DEFAULTS.flushIntervalMs;
  if (plugin === 'loki') s.set('batch_wait', msText(flushMs), bd?.param('flush_interval') ?? at);
  else if (flushMs !== DEFAULTS.flushIntervalMs) ctx.report.warn(at, `${d.what} <buffer> flush_interval`, 'the forward output sends as the service flush interval says');
  const chunk = str('chunk_limit_size');
  if (chunk !== undefined) s.set('batch_size', String(sizeOf(chunk) ?? chunk), bd!.param('chunk_limit_size')!);
  const total = str('total_limit_size');
  const totalBytes = total !== undefined ? (sizeOf(total) ?? 0) : file ? DEFAULTS.fileTotal : DEFAULTS.memoryTotal;
  s.set(file ? 'storage.total_limit_size' : 'mem_buf_limit', String(totalBytes), bd?.param('total_limit_size') ?? at);
  const threads = str('flush_thread_count');
  if (threads !== undefined) s.set('workers', threads, bd!.param('flush_thread_count')!);
  const waitMs = durationOf(str('retry_wait') ?? '1') ?? DEFAULTS.retryWaitMs;
  const maxText = str('retry_max_interval');
  const maxMs = maxText === undefined ? undefined : durationOf(maxText);
  s.set('retry_min_backoff', msText(waitMs), at);
  if (maxMs !== undefined) s.set('retry_max_backoff', msText(maxMs), at);
  const base = Number(str('retry_exponential_backoff_base') ?? DEFAULTS.retryBase);
  if (bd?.bool('retry_forever', false)) s.set('retry_limit', 'no_limits', at);
  else if (str('retry_max_times') !== undefined) s.set('retry_limit', str('retry_max_times')!, at);
  else s.set('retry_limit', String(retriesWithin(durationOf(str('retry_timeout') ?? '72h') ?? DEFAULTS.retryTimeoutMs, waitMs, base, maxMs ?? (plugin === 'loki' ? undefined : undefined))), at);
  const overflow = str('overflow_action');
  if (overflow === 'drop_oldest_chunk') {
    if (file) s.set('storage.full_action', 'drop_oldest', at);
    else ctx.report.refuse(at, `${d.what} <buffer> overflow_action drop_oldest_chunk`, 'floki drops the oldest entries only from a file buffer');
  } else if (overflow !== undefined && overflow !== 'block' && overflow !== 'throw_exception') ctx.report.refuse(at, `${d.what} <buffer> overflow_action ${overflow}`, 'block, throw_exception or drop_oldest_chunk');
  if (bd) {
    bd.accept(['flush_at_shutdown', 'retry_type', 'retry_randomize', 'queue_limit_length', 'chunk_limit_records', 'chunk_full_threshold', 'queued_chunks_limit_size', 'compress', 'flush_thread_interval', 'flush_thread_burst_interval', 'delayed_commit_timeout', 'retry_secondary_threshold', 'path_suffix', 'timekey_use_utc', 'timekey_zone', 'timekey_wait']);
    bd.refuseIf('timekey', 'floki batches per Loki stream, not per time key');
    bd.finish();
  }
  for (const sec of d.sections('secondary')) ctx.report.refuse(sec, `${d.what} <secondary>`, 'floki has no secondary output');
}

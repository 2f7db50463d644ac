/**
 * Fluentd's `<match>` plugins as floki outputs (README "Coming from Fluentd", Outputs), with their
 * `<buffer>`. `copy`, `relabel` and `null` are routing (router.ts calls mapStore for each store).
 */
import type { ConfigFiles } from '../../../files.js';
import type { ConfigModel } from '../../../model.js';
import type { FluentdElement } from '../tree.js';
import { Directive, FlokiSection, type MapReport } from './directive.js';
import { accessorOf, hashOf, listOf, msText } from './values.js';

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
  const url = d.param('url');
  // An empty url (an unset "#{ENV['LOKI_URL']}") is named as such, not as the path floki would append to it.
  if (url?.value != null && url.value.trim() === '') report.refuse(url, `${d.what}: url`, 'it is empty: the plugin needs an http or https URL');
  else s.from(d, 'url', 'url', (v) => `${v.replace(/\/+$/, '')}/loki/api/v1/push`);
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
  const threads = Number(d.el.elements.find((e) => e.name === 'buffer')?.params.find((p) => p.key === 'flush_thread_count')?.value ?? d.el.params.find((p) => p.key === 'num_threads')?.value ?? '1');
  if (d.bool('include_thread_label', true) && threads > 1 && !labels.has('fluentd_thread')) labels.set('fluentd_thread', 'flush_thread_0');
  // floki's loki output has `job=floki` by default; the plugin has no label of its own.
  s.set('labels', [...labels].map(([k, v]) => `${k}=${v}`), d.el);
  const k8s = s.fromBool(d, 'extract_kubernetes_labels', 'extract_kubernetes_labels', 'on', 'off');
  if (labels.size === 0 && k8s !== true) report.note(d.el, `${d.what}: no extra_labels and no <label>: Loki refuses a stream without labels (as it refuses the plugin's)`);
  const rk = d.param('remove_keys');
  if (rk?.value) s.set('remove_keys', listOf(rk.value).map((k) => (k.startsWith('$') ? accessorOf(k) : k)), rk);
  const lf = d.param('line_format');
  if (lf?.value && lf.value !== 'json' && lf.value !== 'key_value') report.refuse(lf, `${d.what}: line_format ${lf.value}`, 'json or key_value');
  s.set('line_format', lf?.value === 'json' ? 'json' : 'fluentd_key_value', lf ?? d.el);
  s.fromBool(d, 'drop_single_key', 'drop_single_key', 'raw', 'off');
  s.from(d, 'cert', 'tls.crt_file');
  s.from(d, 'key', 'tls.key_file');
  s.from(d, 'ca_cert', 'tls.ca_file');
  d.refuseIf('ciphers', 'floki uses Node.js TLS defaults (TLS 1.2 or newer, its cipher list)');
  d.refuseIf('min_version', 'floki uses Node.js TLS defaults (TLS 1.2 or newer, its cipher list)');
  if (d.boolParam('insecure_tls')?.value === true) s.set('tls.verify', 'off', d.param('insecure_tls')!);
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
    if (d.boolParam('tls_verify_hostname')?.value === false) s.set('tls.verify', 'off', d.param('tls_verify_hostname')!);
    if (d.boolParam('tls_insecure_mode')?.value === true) s.set('tls.verify', 'off', d.param('tls_insecure_mode')!);
    s.from(d, 'tls_client_cert_path', 'tls.crt_file');
    s.from(d, 'tls_client_private_key_path', 'tls.key_file');
    s.from(d, 'tls_client_private_key_passphrase', 'tls.key_passwd');
    d.ignore(['tls_version', 'tls_ciphers', 'tls_allow_self_signed_cert'], 'floki uses Node.js TLS defaults');
  } else if (transport !== undefined && transport !== 'tcp') d.report.refuse(d.param('transport')!, `${d.what}: transport ${transport}`, 'tcp or tls');
  s.fromBool(d, 'require_ack_response', 'require_ack_response', 'on', 'off');
  s.fromDuration(d, 'ack_response_timeout', 'ack_response_timeout');
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

/**
 * The retries Fluentd makes within retry_timeout, waits growing from retry_wait by the base up to the
 * max interval (once the waits stop growing, as many as the rest of the timeout holds).
 */
export function retriesWithin(timeoutMs: number, waitMs: number, base: number, maxMs: number | undefined): number {
  let total = 0;
  let n = 0;
  let wait = Math.max(1, waitMs);
  for (;;) {
    const w = maxMs === undefined ? wait : Math.max(1, Math.min(wait, maxMs));
    if (base <= 1 || w === maxMs) return Math.max(1, n + Math.floor((timeoutMs - total) / w));
    if (total + w > timeoutMs) return Math.max(1, n);
    total += w;
    n++;
    wait *= base;
  }
}

/** Fluentd's v0.12 buffer parameters and their `<buffer>` names (compat_parameters.rb BUFFER_PARAMS). */
const COMPAT_BUFFER_KEYS: Record<string, string> = {
  buffer_type: '@type',
  buffer_path: 'path',
  num_threads: 'flush_thread_count',
  flush_interval: 'flush_interval',
  try_flush_interval: 'flush_thread_interval',
  queued_chunk_flush_interval: 'flush_thread_burst_interval',
  disable_retry_limit: 'retry_forever',
  retry_limit: 'retry_max_times',
  max_retry_wait: 'retry_max_interval',
  buffer_chunk_limit: 'chunk_limit_size',
  buffer_queue_limit: 'queue_limit_length',
  buffer_queue_full_action: 'overflow_action',
  flush_at_shutdown: 'flush_at_shutdown',
};

/**
 * The output's `<buffer>`, or, when it has none, the one Fluentd makes of the v0.12 buffer parameters
 * written in the `<match>` itself (compat_parameters_buffer: `flush_interval 10s`, `buffer_chunk_limit
 * 1m`, ... as in older Loki and Kubernetes examples); those are taken from the directive.
 */
function bufferSectionOf(d: Directive): FluentdElement | undefined {
  const el = d.section('buffer');
  if (el !== undefined) return el;
  const params = d.el.params.filter((p) => Object.hasOwn(COMPAT_BUFFER_KEYS, p.key));
  if (params.length === 0) return undefined;
  for (const p of params) d.param(p.key);
  const renamed = params.map((p) => ({ ...p, key: COMPAT_BUFFER_KEYS[p.key]!, value: p.key === 'buffer_queue_full_action' && p.value === 'exception' ? 'throw_exception' : p.value }));
  return { name: 'buffer', arg: '', params: renamed, elements: [], file: d.el.file, line: params[0]!.line };
}

function buffer(d: Directive, s: FlokiSection, ctx: OutputMapContext, plugin: 'loki' | 'forward'): void {
  const el = bufferSectionOf(d);
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
  if (mode !== undefined && !['default', 'interval', 'immediate', 'lazy'].includes(mode)) ctx.report.refuse(bd!.param('flush_mode')!, `${d.what} <buffer> flush_mode ${mode}`, 'default, interval, immediate or lazy');
  // lazy without a time key flushes a chunk only when it is full: floki sends sooner, never later.
  if (mode === 'lazy') ctx.report.note(bd!.param('flush_mode')!, `${d.what} <buffer> flush_mode lazy: floki sends every flush_interval (60s unless set), not only full chunks`);
  const interval = bd?.duration('flush_interval');
  const flushMs = mode === 'immediate' ? 0 : (interval ?? DEFAULTS.flushIntervalMs);
  if (plugin === 'loki') s.set('batch_wait', msText(flushMs), bd?.param('flush_interval') ?? at);
  else if (flushMs !== DEFAULTS.flushIntervalMs) ctx.report.warn(at, `${d.what} <buffer> flush_interval`, 'the forward output sends as the service flush interval says');
  if (bd) s.fromSize(bd, 'chunk_limit_size', 'batch_size');
  const totalBytes = bd?.size('total_limit_size') ?? (file ? DEFAULTS.fileTotal : DEFAULTS.memoryTotal);
  s.set(file ? 'storage.total_limit_size' : 'mem_buf_limit', String(totalBytes), bd?.param('total_limit_size') ?? at);
  const threads = str('flush_thread_count');
  if (threads !== undefined) s.set('workers', threads, bd!.param('flush_thread_count')!);
  const waitMs = bd?.duration('retry_wait') ?? DEFAULTS.retryWaitMs;
  const maxInterval = bd?.duration('retry_max_interval');
  // retry_type periodic: every wait is retry_wait.
  const periodic = str('retry_type') === 'periodic';
  const maxMs = periodic ? waitMs : maxInterval;
  const timeoutMs = bd?.duration('retry_timeout') ?? DEFAULTS.retryTimeoutMs;
  s.set('retry_min_backoff', msText(waitMs), at);
  // Without retry_max_interval Fluentd's waits have no cap: floki's own (5m) would spend the retries in
  // minutes where Fluentd spends them over the retry_timeout, dropping a long outage's logs far sooner.
  s.set('retry_max_backoff', msText(maxMs ?? timeoutMs), bd?.param('retry_max_interval') ?? at);
  const base = periodic ? 1 : Number(str('retry_exponential_backoff_base') ?? DEFAULTS.retryBase);
  if (bd?.bool('retry_forever', false)) s.set('retry_limit', 'no_limits', at);
  else if (str('retry_max_times') !== undefined) s.set('retry_limit', str('retry_max_times')!, at);
  else s.set('retry_limit', String(retriesWithin(timeoutMs, waitMs, base, maxMs)), at);
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

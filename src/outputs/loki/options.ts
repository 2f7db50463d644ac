/**
 * The Loki output's options: one table (name, type, default, description) from which the config
 * validator and the README take theirs, and the typed settings the output runs with.
 * Names follow Fluent Bit's out_loki; batching and retry defaults follow Promtail / Alloy's loki.write.
 */
import { parseOption, type OptionSpec, type ResolvedOptions } from '../../config/options.js';
import { DROP_SINGLE_KEY_VALUES, LINE_FORMATS, parseDropSingleKey, type DropSingleKey, type LineFormat } from '../../labels/line-formatter.js';
import { readFileSync } from 'node:fs';
import { parseRetryLimit } from '../common/retry-policy.js';
import { LabelRuleError, labelMapEntries, type LabelMapEntry } from '../../labels/label-rules.js';
import { decryptKey, NET_OPTIONS, readCaPath, TLS_EXTRA_OPTIONS, tlsVersion } from './compat-options.js';

const COMPRESS_CHOICES = ['snappy', 'json_gzip', 'gzip'] as const;

export const LOKI_OPTIONS: readonly OptionSpec[] = [
  { name: 'host', type: 'string', default: '127.0.0.1', description: 'Loki host name or IP address, without path.' },
  { name: 'port', type: 'int', default: 3100, description: 'Loki HTTP port.' },
  { name: 'uri', type: 'string', default: '/loki/api/v1/push', description: 'Push endpoint path; must start with /.' },
  {
    name: 'url',
    type: 'string',
    description: 'Loki as one URL (e.g. http://loki:3100, or with a path); sets host, port and, when it has a path, uri.',
  },
  {
    name: 'labels',
    type: 'list',
    default: ['job=floki'],
    description:
      "Stream labels: name=value, name=$accessor (e.g. namespace=$kubernetes['namespace_name']), or a bare $accessor named after its path joined with _ ($sub['stream'] gives sub_stream, as Fluent Bit's binary does). Keys read by accessors are removed from the line.",
  },
  { name: 'label_keys', type: 'list', default: [], description: "Record accessors placed as labels named after their path ($sub['stream'] gives sub_stream); the keys are removed from the line." },
  {
    name: 'label_map_path',
    type: 'string',
    description: 'A JSON file mapping record keys to label names, e.g. {"sub": {"stream": "stream"}} for stream=$sub[\'stream\']; the keys are removed from the line. A file that cannot be read or is not such a map is a config error.',
  },
  {
    name: 'auto_kubernetes_labels',
    type: 'bool',
    default: false,
    description: "Every string value of the record's kubernetes.labels (the kubernetes filter's pod labels) becomes a label, its key sanitised (app.kubernetes.io/name gives app_kubernetes_io_name); they stay in the line, as in Fluent Bit.",
  },
  {
    name: 'extract_kubernetes_labels',
    type: 'bool',
    default: false,
    description: "fluent-plugin-grafana-loki's name for auto_kubernetes_labels (either turns it on): kubernetes.labels become labels, `.`, `-` and `/` in their keys made `_`.",
  },
  { name: 'remove_keys', type: 'list', default: [], description: 'Record keys (or $accessors) removed from the record before the line is formatted.' },
  {
    name: 'line_format',
    type: 'string',
    default: 'json',
    choices: LINE_FORMATS,
    description:
      'How a record becomes the line: json, key_value (key="value" pairs separated by spaces), or fluentd_key_value (fluent-plugin-grafana-loki\'s key_value: `k=v`, v as Ruby prints it, quoted only when it holds a space or `=`, `"` and `\\` escaped).',
  },
  {
    name: 'drop_single_key',
    type: 'string',
    default: 'off',
    choices: DROP_SINGLE_KEY_VALUES,
    description: 'When one key remains, send only its value: on (in line_format, json strings stay quoted), raw (strings unquoted), or off.',
  },
  { name: 'tenant_id', type: 'string', description: 'Tenant sent as X-Scope-OrgID; omitted for a single-tenant Loki.' },
  {
    name: 'tenant_id_key_error_handling',
    type: 'string',
    default: 'partial_success',
    choices: ['partial_success', 'partial_error'],
    description:
      "Fluent Bit's choice when one tenant's request fails and another's succeeds. floki settles each tenant's batch on its own, so both values behave alike: a failed tenant's entries are retried (partial_error's aim) and a tenant that succeeded is never sent again (partial_success's).",
  },
  {
    name: 'tenant_id_key',
    type: 'string',
    description: "Record key or accessor (e.g. $kubernetes['namespace_name']) whose value is the entry's tenant; batches are split per tenant. Entries without it get tenant_id.",
  },
  {
    name: 'structured_metadata',
    type: 'list',
    default: [],
    description:
      "Loki 3 structured metadata, never labels: name=value, name=$accessor (e.g. uid=$involvedObject['uid']) or a bare $accessor named after its path ($involvedObject['uid'] gives involvedObject_uid). Maps and arrays are sent as JSON. The keys are removed from the line, as in Fluent Bit.",
  },
  { name: 'structured_metadata_map_keys', type: 'list', default: [], description: 'Accessors of maps whose every key/value becomes structured metadata.' },
  {
    name: 'max_line_size',
    type: 'size',
    default: '250K',
    description: "Lines longer than this many bytes are truncated before sending (counted in floki_output_truncated_records_total), so Loki never rejects them as line_too_long; the default is Loki's own limit (256KB = 256000 bytes). 0 disables.",
  },
  {
    name: 'max_label_names',
    type: 'int',
    default: 15,
    description:
      "Most labels a stream gets (Loki's max_label_names_per_series); past it the later ones (configured labels come first, in their order) leave the stream, see label_overflow.",
  },
  { name: 'max_label_name_length', type: 'int', default: 1024, description: "A label whose name is longer (Loki's max_label_name_length) leaves the stream, see label_overflow." },
  {
    name: 'max_label_value_length',
    type: 'int',
    default: 2048,
    description: "A label whose value has more bytes (Loki's max_label_value_length) leaves the stream, see label_overflow; as structured metadata its value is cut to this length.",
  },
  {
    name: 'label_values_limit',
    type: 'int',
    default: 5000,
    description:
      "Cardinality guard: most distinct values one label name may take within label_values_window; a new value past it leaves its stream (see label_overflow), so a runaway label makes a bounded number of streams. 0 disables. The default is Loki's streams per tenant (max_global_streams_per_user).",
  },
  { name: 'label_values_window', type: 'duration', default: '1h', description: 'The window of label_values_limit: a value not seen for this long no longer counts.' },
  {
    name: 'label_overflow',
    type: 'string',
    default: 'structured_metadata',
    choices: ['structured_metadata', 'drop'],
    description:
      'What happens to a label that would break one of the limits above: structured_metadata (moved to each entry’s structured metadata, Loki 3) or drop (left out, for a Loki without structured metadata: Loki 2.8 ignores it over protobuf and refuses it as JSON). Counted in floki_output_label_limited_total{label,limit}, logged once per label and limit.',
  },
  { name: 'batch_size', type: 'size', default: '1M', description: 'A batch is sent when its entries reach this many bytes.' },
  { name: 'batch_wait', type: 'duration', description: 'A batch is sent at the latest this long after its first entry. Unset: 1s, or `service.flush` when that is shorter (Fluent Bit flushes every `service.flush`).' },
  {
    name: 'mem_buf_limit',
    type: 'size',
    default: '64M',
    description:
      'Bytes held in memory (batching, queued, in flight). Memory buffer: above it the inputs feeding this output are paused. Disk buffer: bounds what is read back from disk and kept in memory.',
  },
  {
    name: 'retry_limit',
    type: 'string',
    default: '10',
    description: 'Memory buffer: retries of a failed request before its entries are dropped: a number, no_limits (or false), or no_retries. With the disk buffer there is no limit.',
  },
  { name: 'retry_min_backoff', type: 'duration', default: '500ms', description: 'Shortest wait before a retry.' },
  { name: 'retry_max_backoff', type: 'duration', default: '5m', description: 'Longest wait before a retry (the wait doubles from retry_min_backoff, with jitter).' },
  { name: 'timeout', type: 'duration', default: '10s', description: 'A request without a complete response after this long fails and is retried.' },
  {
    name: 'workers',
    type: 'int',
    default: 1,
    description: "Requests in flight at most. Each stream's entries still reach Loki in time order: batches sharing a stream are sent one after the other.",
  },
  {
    name: 'transport',
    type: 'string',
    default: 'http',
    choices: ['http', 'grpc'],
    description: "http: POST to uri. grpc: Loki's logproto.Pusher/Push (Loki's gRPC port, 9095 by default); same retry rules, mapped from gRPC status codes.",
  },
  {
    name: 'compress',
    type: 'string',
    default: 'snappy',
    choices: COMPRESS_CHOICES,
    description: 'HTTP body: snappy (protobuf, what Promtail sends) or json_gzip (JSON, gzipped, for Loki-compatible receivers without protobuf; gzip is accepted as Fluent Bit spells it).',
  },
  { name: 'tls', type: 'bool', default: false, description: 'Use HTTPS (or TLS for gRPC). An https:// url turns it on.' },
  { name: 'tls.verify', type: 'bool', default: true, description: "Verify the server's certificate and name." },
  { name: 'tls.ca_file', type: 'string', description: 'PEM file of the CA certificates to trust instead of the system ones.' },
  { name: 'tls.crt_file', type: 'string', description: 'PEM client certificate, for mutual TLS.' },
  { name: 'tls.key_file', type: 'string', description: 'PEM private key of tls.crt_file.' },
  { name: 'tls.vhost', type: 'string', description: 'Server name to send (SNI) and verify, when it differs from host.' },
  ...TLS_EXTRA_OPTIONS,
  { name: 'header', type: 'list', default: [], description: "Extra HTTP headers (gRPC metadata), each 'Name value'." },
  {
    name: 'buffer_size',
    type: 'size',
    default: '512K',
    description: "Fluent Bit's buffer for Loki's response. Accepted for compatibility and has no effect: floki keeps the first 4 KiB of a response, Loki's error texts, and never fails on a longer one.",
  },
  ...NET_OPTIONS,
  { name: 'http_user', type: 'string', description: 'Basic authentication user.' },
  { name: 'http_passwd', type: 'string', description: 'Basic authentication password.' },
  { name: 'bearer_token', type: 'string', description: 'Bearer token sent as Authorization: Bearer <token>.' },
  {
    name: 'bearer_token_file',
    type: 'string',
    description: 'A file holding the bearer token, read once at start (as fluent-plugin-grafana-loki does); a missing or empty file is a config error.',
  },
  {
    name: 'storage.type',
    type: 'string',
    choices: ['memory', 'filesystem'],
    description:
      'filesystem: entries are appended to segment files under service storage.path before they are acknowledged, and deleted once Loki accepted them; replayed on start. Also on when an input sets storage.type filesystem. Default memory.',
  },
  {
    name: 'storage.total_limit_size',
    type: 'size',
    default: '1G',
    description: 'Disk buffer: most bytes of segment files this output keeps; see storage.full_action.',
  },
  {
    name: 'storage.full_action',
    type: 'string',
    default: 'pause',
    choices: ['pause', 'drop_oldest'],
    description:
      'Disk buffer at storage.total_limit_size: pause the inputs feeding this output, or delete the oldest segment file (its entries counted as dropped, reason storage_full).',
  },
];

export class LokiConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LokiConfigError';
  }
}

export type StorageType = 'memory' | 'filesystem';
export type FullAction = 'pause' | 'drop_oldest';

export interface LokiTlsConfig {
  verify: boolean;
  /** With verify: check the certificate's name too. */
  verifyHostname: boolean;
  /** tls.ca_file, then the certificates of tls.ca_path. */
  ca?: Buffer;
  cert?: Buffer;
  /** Unencrypted (tls.key_passwd applied). */
  key?: Buffer;
  vhost?: string;
  minVersion?: 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  maxVersion?: 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  ciphers?: string;
}

export interface LokiConfig {
  host: string;
  port: number;
  uri: string;
  labels: string[];
  labelKeys: string[];
  /** Leaves of the `label_map_path` file. */
  labelMap: LabelMapEntry[];
  autoKubernetesLabels: boolean;
  removeKeys: string[];
  lineFormat: LineFormat;
  dropSingleKey: DropSingleKey;
  /** Default tenant (X-Scope-OrgID); undefined for a single-tenant Loki. */
  tenantId?: string;
  /** Record accessor of the per-entry tenant. */
  tenantIdKey?: string;
  structuredMetadata: string[];
  structuredMetadataMapKeys: string[];
  /** Bytes; 0 = no limit. */
  maxLineSize: number;
  maxLabelNames: number;
  maxLabelNameLength: number;
  maxLabelValueLength: number;
  /** 0: no cardinality guard. */
  labelValuesLimit: number;
  labelValuesWindowMs: number;
  labelOverflow: 'structured_metadata' | 'drop';
  batchSizeBytes: number;
  batchWaitMs: number;
  memBufLimitBytes: number;
  /** Retries after the first attempt; Infinity for no_limits. Memory buffer only. */
  retryLimit: number;
  retryMinBackoffMs: number;
  retryMaxBackoffMs: number;
  timeoutMs: number;
  workers: number;
  transport: 'http' | 'grpc';
  compress: 'snappy' | 'json_gzip';
  /** Set for HTTPS / gRPC over TLS. */
  tls?: LokiTlsConfig;
  /** Auth and `header` headers (the tenant is added per request). */
  headers: Record<string, string>;
  /** net.keepalive: keep connections open between requests. */
  keepAlive: boolean;
  /** undefined: memory unless an input asks for filesystem. */
  storageType?: StorageType;
  totalLimitBytes: number;
  fullAction: FullAction;
}

/**
 * Typed settings from validated options. Values the validator left out get the table's default,
 * parsed here; present values are taken as already resolved (ms, bytes, arrays) and never re-parsed.
 * Reads the TLS files, so that a missing one is a config error.
 */
export function resolveLokiConfig(options: ResolvedOptions): LokiConfig {
  const get = <T>(name: string): T => {
    const spec = LOKI_OPTIONS.find((o) => o.name === name)!;
    const value = options[name];
    if (value !== undefined && value !== null) return value as T;
    return (spec.default === undefined ? undefined : parseOption(spec, spec.default)) as T;
  };
  const str = (name: string): string | undefined => {
    const v = get<unknown>(name);
    return v === undefined || v === '' ? undefined : String(v);
  };
  const file = (name: string): Buffer | undefined => {
    const path = str(name);
    if (path === undefined) return undefined;
    try {
      return readFileSync(path);
    } catch (err) {
      throw new LokiConfigError(`${name}: cannot read '${path}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };

  let host = get<string>('host');
  let port = get<number>('port');
  let uri = get<string>('uri');
  let tlsOn = get<boolean>('tls');
  const url = str('url');
  if (url !== undefined) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new LokiConfigError(`url: not a URL: '${url}'`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new LokiConfigError(`url: expected http:// or https://, got '${parsed.protocol}'`);
    if (parsed.protocol === 'https:') tlsOn = true;
    host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
    port = parsed.port ? Number(parsed.port) : parsed.protocol === 'https:' ? 443 : 80;
    if (parsed.pathname !== '/' && parsed.pathname !== '') uri = parsed.pathname;
  }
  if (!uri.startsWith('/')) throw new LokiConfigError(`uri: must start with '/', got '${uri}'`);
  const workers = get<number>('workers');
  if (!Number.isInteger(workers) || workers < 1) throw new LokiConfigError(`workers: must be 1 or more, got ${workers}`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new LokiConfigError(`port: must be 1-65535, got ${port}`);
  const batchSizeBytes = get<number>('batch_size');
  if (batchSizeBytes < 1) throw new LokiConfigError('batch_size: must be at least 1 byte');

  const positive = (name: string, min: number): number => {
    const v = get<number>(name);
    if (!Number.isInteger(v) || v < min) throw new LokiConfigError(`${name}: must be a whole number, at least ${min}, got ${v}`);
    return v;
  };
  const maxLabelNames = positive('max_label_names', 1);
  const maxLabelNameLength = positive('max_label_name_length', 1);
  const maxLabelValueLength = positive('max_label_value_length', 1);
  const labelValuesLimit = positive('label_values_limit', 0);
  const labelValuesWindowMs = get<number>('label_values_window');
  if (!(labelValuesWindowMs > 0)) throw new LokiConfigError('label_values_window: must be longer than 0');
  const labelOverflow = get<string>('label_overflow');
  if (labelOverflow !== 'structured_metadata' && labelOverflow !== 'drop') throw new LokiConfigError(`label_overflow: expected structured_metadata or drop, got '${labelOverflow}'`);

  const lineFormat = get<LineFormat>('line_format');
  if (!LINE_FORMATS.includes(lineFormat)) throw new LokiConfigError(`line_format: expected ${LINE_FORMATS.join(', ')}, got '${lineFormat}'`);

  let retryLimit: number;
  let dropSingleKey: DropSingleKey;
  try {
    retryLimit = parseRetryLimit(get<string | number>('retry_limit'));
    dropSingleKey = parseDropSingleKey(String(get<string>('drop_single_key')));
  } catch (err) {
    throw new LokiConfigError((err as Error).message);
  }

  const headers: Record<string, string> = {};
  for (const entry of get<string[]>('header')) {
    const m = /^\s*([^\s:]+):?\s+(.*?)\s*$/.exec(entry);
    if (!m) throw new LokiConfigError(`header: expected 'Name value', got '${entry}'`);
    headers[m[1]!] = m[2]!;
  }
  const user = str('http_user');
  let bearer = str('bearer_token');
  const bearerFile = str('bearer_token_file');
  if (bearerFile !== undefined) {
    if (bearer !== undefined) throw new LokiConfigError('bearer_token and bearer_token_file: set one of them, not both');
    bearer = file('bearer_token_file')!.toString('utf8');
    if (bearer.length === 0) throw new LokiConfigError(`bearer_token_file: '${bearerFile}' is empty`);
  }
  if (user !== undefined && bearer !== undefined) throw new LokiConfigError('http_user and bearer_token: set one of them, not both');
  if (user !== undefined) headers['Authorization'] = `Basic ${Buffer.from(`${user}:${str('http_passwd') ?? ''}`).toString('base64')}`;
  if (bearer !== undefined) headers['Authorization'] = `Bearer ${bearer}`;

  const transport = get<'http' | 'grpc'>('transport');
  if (transport !== 'http' && transport !== 'grpc') throw new LokiConfigError(`transport: expected http or grpc, got '${transport}'`);
  const compressValue = get<string>('compress');
  if (!(COMPRESS_CHOICES as readonly string[]).includes(compressValue)) throw new LokiConfigError(`compress: expected snappy or json_gzip, got '${compressValue}'`);
  const compress = compressValue === 'snappy' ? 'snappy' : 'json_gzip';
  if (transport === 'grpc' && compress !== 'snappy') throw new LokiConfigError('compress: json_gzip applies to the http transport only; gRPC sends protobuf');

  try {
  } catch (err) {
    throw new LokiConfigError((err as Error).message);
  }
  const crt = file('tls.crt_file');
  let key = file('tls.key_file');
  if ((crt === undefined) !== (key === undefined)) throw new LokiConfigError('tls.crt_file and tls.key_file: give both or neither');
  const keyPasswd = str('tls.key_passwd');
  if (key !== undefined && keyPasswd !== undefined) {
    try {
      key = decryptKey(key, keyPasswd);
    } catch (err) {
      throw new LokiConfigError(`tls.key_passwd: cannot open tls.key_file with it: ${(err as Error).message}`);
    }
  }
  let ca = file('tls.ca_file');
  const caPath = str('tls.ca_path');
  if (caPath !== undefined) {
    try {
      ca = Buffer.concat([ca ?? Buffer.alloc(0), readCaPath(caPath)]);
    } catch (err) {
      throw new LokiConfigError(`tls.ca_path: cannot read '${caPath}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  let minVersion: LokiTlsConfig['minVersion'];
  let maxVersion: LokiTlsConfig['maxVersion'];
  try {
    minVersion = tlsVersion('tls.min_version', str('tls.min_version'));
    maxVersion = tlsVersion('tls.max_version', str('tls.max_version'));
  } catch (err) {
    throw new LokiConfigError((err as Error).message);
  }
  const tls: LokiTlsConfig | undefined = tlsOn
    ? { verify: get<boolean>('tls.verify'), verifyHostname: get<boolean>('tls.verify_hostname'), ca, cert: crt, key, vhost: str('tls.vhost'), minVersion, maxVersion, ciphers: str('tls.ciphers') }
    : undefined;

  let labelMap: LabelMapEntry[] = [];
  const labelMapPath = str('label_map_path');
  if (labelMapPath !== undefined) {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(labelMapPath, 'utf8'));
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new LokiConfigError(`label_map_path: cannot read '${labelMapPath}': ${e.code ?? e.message}`);
    }
    try {
      labelMap = labelMapEntries(json, `'${labelMapPath}'`);
    } catch (err) {
      if (err instanceof LabelRuleError) throw new LokiConfigError(err.message);
      throw err;
    }
  }
  const tenantErrors = get<string>('tenant_id_key_error_handling');
  if (tenantErrors !== 'partial_success' && tenantErrors !== 'partial_error') {
    throw new LokiConfigError(`tenant_id_key_error_handling: expected partial_success or partial_error, got '${tenantErrors}'`);
  }

  const storageType = str('storage.type') as StorageType | undefined;
  if (storageType !== undefined && storageType !== 'memory' && storageType !== 'filesystem') throw new LokiConfigError(`storage.type: expected memory or filesystem, got '${storageType}'`);
  const fullAction = get<FullAction>('storage.full_action');
  if (fullAction !== 'pause' && fullAction !== 'drop_oldest') throw new LokiConfigError(`storage.full_action: expected pause or drop_oldest, got '${fullAction}'`);
  const totalLimitBytes = get<number>('storage.total_limit_size');
  if (totalLimitBytes < 64 * 1024) throw new LokiConfigError('storage.total_limit_size: must be at least 64K');

  return {
    host,
    port,
    uri,
    labels: get<string[]>('labels'),
    labelKeys: get<string[]>('label_keys'),
    labelMap,
    autoKubernetesLabels: get<boolean>('auto_kubernetes_labels') || get<boolean>('extract_kubernetes_labels'),
    removeKeys: get<string[]>('remove_keys'),
    lineFormat,
    dropSingleKey,
    tenantId: str('tenant_id'),
    tenantIdKey: str('tenant_id_key'),
    structuredMetadata: get<string[]>('structured_metadata'),
    structuredMetadataMapKeys: get<string[]>('structured_metadata_map_keys'),
    maxLineSize: get<number>('max_line_size'),
    maxLabelNames,
    maxLabelNameLength,
    maxLabelValueLength,
    labelValuesLimit,
    labelValuesWindowMs,
    labelOverflow,
    batchSizeBytes,
    batchWaitMs: get<number | undefined>('batch_wait') ?? 1000,
    memBufLimitBytes: get<number>('mem_buf_limit'),
    retryLimit,
    retryMinBackoffMs: get<number>('retry_min_backoff'),
    retryMaxBackoffMs: get<number>('retry_max_backoff'),
    timeoutMs: get<number>('timeout'),
    workers,
    transport,
    compress,
    tls,
    headers,
    keepAlive: get<boolean>('net.keepalive'),
    storageType,
    totalLimitBytes,
    fullAction,
  };
}

/**
 * The Loki output's options: one table (name, type, default, description) from which the config
 * validator and the README take theirs, and the typed settings the output runs with.
 * Names follow Fluent Bit's out_loki; batching and retry defaults follow Promtail / Alloy's loki.write.
 */
import { parseOption, type OptionSpec, type ResolvedOptions } from '../../config/options.js';
import { DROP_SINGLE_KEY_VALUES, LINE_FORMATS, parseDropSingleKey, type DropSingleKey, type LineFormat } from '../../labels/line-formatter.js';
import { parseRetryLimit } from './retry-policy.js';

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
      "Stream labels: name=value, name=$accessor (e.g. namespace=$kubernetes['namespace_name']), or a bare $accessor named after its last key.",
  },
  { name: 'label_keys', type: 'list', default: [], description: "Record accessors placed as labels named after their last key (e.g. $sub['stream'] gives stream); the keys are removed from the line." },
  { name: 'remove_keys', type: 'list', default: [], description: 'Record keys (or $accessors) removed from the record before the line is formatted.' },
  { name: 'line_format', type: 'string', default: 'json', choices: LINE_FORMATS, description: 'How a record becomes the line: json, or key_value (key="value" pairs separated by spaces).' },
  {
    name: 'drop_single_key',
    type: 'string',
    default: 'off',
    choices: DROP_SINGLE_KEY_VALUES,
    description: 'When one key remains, send only its value: on (in line_format, json strings stay quoted), raw (strings unquoted), or off.',
  },
  { name: 'tenant_id', type: 'string', description: 'Tenant sent as X-Scope-OrgID; omitted for a single-tenant Loki.' },
  { name: 'batch_size', type: 'size', default: '1M', description: 'A batch is sent when its entries reach this many bytes.' },
  { name: 'batch_wait', type: 'duration', default: '1s', description: 'A batch is sent at the latest this long after its first entry.' },
  {
    name: 'mem_buf_limit',
    type: 'size',
    default: '64M',
    description: 'Bytes held (batching, queued, in flight) above which the inputs feeding this output are paused.',
  },
  { name: 'retry_limit', type: 'string', default: '10', description: 'Retries of a failed request before its entries are dropped: a number, no_limits (or false), or no_retries.' },
  { name: 'retry_min_backoff', type: 'duration', default: '500ms', description: 'Shortest wait before a retry.' },
  { name: 'retry_max_backoff', type: 'duration', default: '5m', description: 'Longest wait before a retry (the wait doubles from retry_min_backoff, with jitter).' },
  { name: 'timeout', type: 'duration', default: '10s', description: 'A request without a complete response after this long fails and is retried.' },
  { name: 'workers', type: 'int', default: 1, description: 'Requests in flight at most. With more than one, batches may arrive out of order (Loki accepts that within an hour).' },
  { name: 'header', type: 'list', default: [], description: "Extra HTTP headers, each 'Name value'." },
  { name: 'http_user', type: 'string', description: 'Basic authentication user.' },
  { name: 'http_passwd', type: 'string', description: 'Basic authentication password.' },
  { name: 'bearer_token', type: 'string', description: 'Bearer token sent as Authorization: Bearer <token>.' },
];

export class LokiConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LokiConfigError';
  }
}

export interface LokiConfig {
  host: string;
  port: number;
  uri: string;
  labels: string[];
  labelKeys: string[];
  removeKeys: string[];
  lineFormat: LineFormat;
  dropSingleKey: DropSingleKey;
  tenantId?: string;
  batchSizeBytes: number;
  batchWaitMs: number;
  memBufLimitBytes: number;
  /** Retries after the first attempt; Infinity for no_limits. */
  retryLimit: number;
  retryMinBackoffMs: number;
  retryMaxBackoffMs: number;
  timeoutMs: number;
  workers: number;
  /** tenant, auth and `header` headers. */
  headers: Record<string, string>;
}

/**
 * Typed settings from validated options. Values the validator left out get the table's default,
 * parsed here; present values are taken as already resolved (ms, bytes, arrays) and never re-parsed.
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

  let host = get<string>('host');
  let port = get<number>('port');
  let uri = get<string>('uri');
  const url = str('url');
  if (url !== undefined) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new LokiConfigError(`url: not a URL: '${url}'`);
    }
    if (parsed.protocol !== 'http:') throw new LokiConfigError(`url: only http:// is supported, got '${parsed.protocol}'`);
    host = parsed.hostname;
    port = parsed.port ? Number(parsed.port) : 80;
    if (parsed.pathname !== '/' && parsed.pathname !== '') uri = parsed.pathname;
  }
  if (!uri.startsWith('/')) throw new LokiConfigError(`uri: must start with '/', got '${uri}'`);
  const workers = get<number>('workers');
  if (!Number.isInteger(workers) || workers < 1) throw new LokiConfigError(`workers: must be 1 or more, got ${workers}`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new LokiConfigError(`port: must be 1-65535, got ${port}`);
  const batchSizeBytes = get<number>('batch_size');
  if (batchSizeBytes < 1) throw new LokiConfigError('batch_size: must be at least 1 byte');

  const lineFormat = get<LineFormat>('line_format');
  if (!LINE_FORMATS.includes(lineFormat)) throw new LokiConfigError(`line_format: expected json or key_value, got '${lineFormat}'`);

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
  const tenantId = str('tenant_id');
  if (tenantId !== undefined) headers['X-Scope-OrgID'] = tenantId;
  const user = str('http_user');
  const bearer = str('bearer_token');
  if (user !== undefined && bearer !== undefined) throw new LokiConfigError('http_user and bearer_token: set one of them, not both');
  if (user !== undefined) headers['Authorization'] = `Basic ${Buffer.from(`${user}:${str('http_passwd') ?? ''}`).toString('base64')}`;
  if (bearer !== undefined) headers['Authorization'] = `Bearer ${bearer}`;

  return {
    host,
    port,
    uri,
    labels: get<string[]>('labels'),
    labelKeys: get<string[]>('label_keys'),
    removeKeys: get<string[]>('remove_keys'),
    lineFormat,
    dropSingleKey,
    tenantId,
    batchSizeBytes,
    batchWaitMs: get<number>('batch_wait'),
    memBufLimitBytes: get<number>('mem_buf_limit'),
    retryLimit,
    retryMinBackoffMs: get<number>('retry_min_backoff'),
    retryMaxBackoffMs: get<number>('retry_max_backoff'),
    timeoutMs: get<number>('timeout'),
    workers,
    headers,
  };
}

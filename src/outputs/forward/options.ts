/**
 * The forward output's options: Fluent Bit's out_forward keys (plugins/out_forward/forward.c
 * `config_map`, its docs page), the Loki output's buffering and retry keys, and the network keys
 * Fluent Bit's upstream connections take. Fluent Bit's keys that floki does not do are in
 * src/config/fluent-bit-keys.ts, with the other plugins'.
 */
import { type OptionSpec, type ResolvedOptions, parseOption } from '../../config/options.js';
import { UpstreamNodeError } from '../../config/upstream-error.js';
import { parseRetryLimit } from '../common/retry-policy.js';
import { TagTemplate, TagTemplateError } from './tag-template.js';
import { resolveNodes, type ForwardNode, type NodeDefaults } from './upstream-nodes.js';

export const FORWARD_OUTPUT_OPTIONS: readonly OptionSpec[] = [
  { name: 'host', type: 'string', default: '127.0.0.1', description: 'Host of the forward receiver (Fluent Bit or Fluentd in_forward, floki forward input).' },
  { name: 'port', type: 'int', default: 24224, description: 'TCP port of the receiver.' },
  { name: 'unix_path', type: 'string', description: 'Send over this unix socket instead of host/port; upstream is then ignored.' },
  {
    name: 'upstream',
    type: 'any',
    description:
      'Balance over several receivers, round robin; a failing one is left out for a while and tried again later. An upstream file (classic [UPSTREAM] and [NODE]s, or YAML upstream_servers), the name of an upstream_servers entry of the config, or (YAML) the nodes themselves.',
  },
  {
    name: 'tag',
    type: 'string',
    description:
      "Tag to send instead of the event's, with record accessors: $TAG, $TAG[n], $key['sub']. A record key in it sends each event alone (Message mode), as Fluent Bit does.",
  },
  { name: 'time_as_integer', type: 'bool', default: false, description: 'Send times as integer seconds instead of EventTime (Fluentd v0.12); the entries lose their nanoseconds and metadata.' },
  { name: 'send_options', type: 'bool', default: false, description: 'Always end frames with the option map (size, fluent_signal). On whenever acks, gzip or add_option need it.' },
  {
    name: 'require_ack_response',
    type: 'bool',
    default: false,
    description: 'Send a chunk id with each frame and settle its entries only when the receiver acks it; a frame not acked within ack_response_timeout, or whose connection drops first, is sent again.',
  },
  {
    name: 'ack_response_timeout',
    type: 'duration',
    default: '190s',
    description: "How long to wait for an ack once a frame is written (Fluentd's key and default; Fluent Bit has none and waits as long as net.io_timeout, forever by default).",
  },
  { name: 'compress', type: 'string', description: 'gzip: send CompressedPackedForward frames (entries gzipped in a bin). text (or unset): no compression.' },
  {
    name: 'retain_metadata_in_forward_mode',
    type: 'bool',
    default: true,
    description:
      'Send entries as [[time, metadata], record] (forward protocol v1.5, Fluent Bit 5 default). Set off for Fluentd up to 1.19, which drops such entries ("skip invalid event").',
  },
  { name: 'add_option', type: 'list', default: [], description: "Extra option map entries, each 'key value' (first word the key, last word the value, as Fluent Bit does), sent as strings; turns on send_options." },
  { name: 'fluentd_compat', type: 'bool', default: false, description: 'Fluent Bit sends metrics and traces in a Fluentd format with it; floki forwards logs only, so it changes nothing.' },
  { name: 'shared_key', type: 'string', description: 'Do the secure forward handshake (HELO, PING, PONG) with this key before sending; the server must prove it has the same key.' },
  { name: 'empty_shared_key', type: 'bool', default: false, description: 'Do the handshake with an empty shared key.' },
  { name: 'self_hostname', type: 'string', default: 'localhost', description: 'Hostname sent in the handshake (PING).' },
  { name: 'username', type: 'string', description: "User for a server that asks for user authentication in its HELO; needs shared_key or empty_shared_key." },
  { name: 'password', type: 'string', description: 'Password of username.' },
  { name: 'tls', type: 'bool', default: false, description: 'Connect with TLS.' },
  { name: 'tls.verify', type: 'bool', default: true, description: "Verify the server's certificate and name." },
  { name: 'tls.ca_file', type: 'string', description: 'PEM file of the CA certificates to trust instead of the system ones.' },
  { name: 'tls.crt_file', type: 'string', description: 'PEM client certificate, for mutual TLS.' },
  { name: 'tls.key_file', type: 'string', description: 'PEM private key of tls.crt_file.' },
  { name: 'tls.key_passwd', type: 'string', description: 'Password of tls.key_file, if it is encrypted.' },
  { name: 'tls.vhost', type: 'string', description: 'Server name to send (SNI) and verify, when it differs from host.' },
  {
    name: 'workers',
    type: 'int',
    default: 1,
    description:
      "Connections to each node at once, each with up to 8 frames (and 8 MiB) in flight without waiting for the acks of those before; another is opened only while those are full. Connections are kept open while used (one unused for net.keepalive_idle_timeout is closed). Raise it for a receiver that takes connections in parallel (Fluentd with several workers); a floki receiver takes one frame of a connection at a time and holds memory per connection.",
  },
  {
    name: 'batch_size',
    type: 'size',
    default: '1M',
    description:
      "A tag's frame is sent once its entries reach this many bytes, or as soon as a worker is free, else at service flush. Keep it under the receiver's buffer_max_size (6144000 in Fluent Bit and floki); a floki receiver prints the records of frames up to 2M on its transcode thread.",
  },
  {
    name: 'retry_limit',
    type: 'string',
    default: '10',
    description: 'Memory buffer: attempts after the first before a frame is dropped: a number, no_limits (or false), or no_retries. With the disk buffer there is no limit.',
  },
  { name: 'retry_min_backoff', type: 'duration', default: '500ms', description: 'Shortest wait before a retry when no other node can take the frame.' },
  { name: 'retry_max_backoff', type: 'duration', default: '5m', description: 'Longest wait before a retry (the wait doubles from retry_min_backoff, with jitter).' },
  { name: 'net.connect_timeout', type: 'duration', default: '10s', description: 'Time to connect, TLS handshake included; then the attempt fails.' },
  { name: 'net.keepalive', type: 'bool', default: true, description: 'Keep connections open between frames; off: one connection per frame.' },
  { name: 'net.keepalive_idle_timeout', type: 'duration', default: '30s', description: 'Close a kept connection unused for this long.' },
  {
    name: 'mem_buf_limit',
    type: 'size',
    default: '64M',
    description: 'Bytes held in memory (batching, queued, in flight). Memory buffer: above it the inputs feeding this output are paused. Disk buffer: bounds what is read back from disk.',
  },
  {
    name: 'storage.type',
    type: 'string',
    choices: ['memory', 'filesystem'],
    description:
      'filesystem: entries are appended to segment files under service storage.path before they are acknowledged, and deleted once sent (acked, with require_ack_response); replayed on start. Also on when an input sets storage.type filesystem. Default memory.',
  },
  { name: 'storage.total_limit_size', type: 'size', default: '1G', description: 'Disk buffer: most bytes of segment files this output keeps; see storage.full_action.' },
  {
    name: 'storage.full_action',
    type: 'string',
    default: 'pause',
    choices: ['pause', 'drop_oldest'],
    description: 'Disk buffer at storage.total_limit_size: pause the inputs feeding this output, or delete the oldest segment file (counted as dropped, reason storage_full).',
  },
];

export class ForwardConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ForwardConfigError';
  }
}

export type StorageType = 'memory' | 'filesystem';
export type FullAction = 'pause' | 'drop_oldest';

export interface ForwardOutputConfig {
  /** One node for host/port or unix_path; several for an upstream. */
  nodes: ForwardNode[];
  /** The upstream's name, when nodes come from one. */
  upstreamName?: string;
  /** undefined: the event's own tag. */
  tag?: TagTemplate;
  timeAsInteger: boolean;
  sendOptions: boolean;
  requireAck: boolean;
  ackTimeoutMs: number;
  compress: boolean;
  retainMetadata: boolean;
  extraOptions: [string, string][];
  workers: number;
  batchSizeBytes: number;
  /** Retries after the first attempt; Infinity for no_limits. Memory buffer only. */
  retryLimit: number;
  retryMinBackoffMs: number;
  retryMaxBackoffMs: number;
  connectTimeoutMs: number;
  keepalive: boolean;
  keepaliveIdleMs: number;
  memBufLimitBytes: number;
  /** undefined: memory unless an input asks for filesystem. */
  storageType?: StorageType;
  totalLimitBytes: number;
  fullAction: FullAction;
}

/** Typed settings from validated options; reads the TLS files, so a missing one is a config error. */
export function resolveForwardOutputConfig(options: ResolvedOptions): ForwardOutputConfig {
  const get = <T>(name: string): T => {
    const value = options[name];
    if (value !== undefined && value !== null) return value as T;
    const spec = FORWARD_OUTPUT_OPTIONS.find((o) => o.name === name)!;
    return (spec.default === undefined ? undefined : parseOption(spec, spec.default)) as T;
  };
  const str = (name: string): string | undefined => {
    const v = get<unknown>(name);
    return v === undefined || v === '' ? undefined : String(v);
  };

  let tag: TagTemplate | undefined;
  const tagText = str('tag');
  if (tagText !== undefined) {
    try {
      tag = TagTemplate.compile(tagText);
    } catch (err) {
      if (err instanceof TagTemplateError) throw new ForwardConfigError(err.message);
      throw err;
    }
  }

  const compressText = (str('compress') ?? 'text').toLowerCase();
  if (compressText !== 'gzip' && compressText !== 'text') throw new ForwardConfigError(`compress: expected gzip or text, got '${str('compress')}'`);
  const compress = compressText === 'gzip';
  const timeAsInteger = get<boolean>('time_as_integer');
  if (compress && timeAsInteger) throw new ForwardConfigError('compress gzip cannot be combined with time_as_integer (Fluentd v0.12 has no compressed mode)');
  if (compress && tag !== undefined && !tag.static) throw new ForwardConfigError(`compress gzip cannot be combined with a tag that reads the record ('${tag.pattern}'): each event is then sent alone, in Message mode`);

  const extraOptions: [string, string][] = [];
  for (const entry of get<string[]>('add_option')) {
    // As Fluent Bit 5.1.1 does: the first word is the key, the last the value ('x y z' sends x: z).
    const words = entry.trim().split(/\s+/);
    if (words.length < 2) throw new ForwardConfigError(`add_option: expected 'key value', got '${entry}'`);
    const key = words[0]!;
    if (RESERVED_OPTIONS.includes(key)) throw new ForwardConfigError(`add_option: '${key}' is an option floki sets itself`);
    extraOptions.push([key, words[words.length - 1]!]);
  }
  const requireAck = get<boolean>('require_ack_response');
  const sendOptions = get<boolean>('send_options') || requireAck || compress || extraOptions.length > 0;

  const workers = get<number>('workers');
  if (!Number.isInteger(workers) || workers < 1) throw new ForwardConfigError(`workers: must be 1 or more, got ${workers}`);
  const batchSizeBytes = get<number>('batch_size');
  if (batchSizeBytes < 1) throw new ForwardConfigError('batch_size: must be at least 1 byte');
  const ackTimeoutMs = get<number>('ack_response_timeout');
  if (ackTimeoutMs <= 0) throw new ForwardConfigError('ack_response_timeout: must be more than 0');
  let retryLimit: number;
  try {
    retryLimit = parseRetryLimit(get<string | number>('retry_limit'));
  } catch (err) {
    throw new ForwardConfigError((err as Error).message);
  }

  const storageType = str('storage.type') as StorageType | undefined;
  const fullAction = get<FullAction>('storage.full_action');
  const totalLimitBytes = get<number>('storage.total_limit_size');
  if (totalLimitBytes < 64 * 1024) throw new ForwardConfigError('storage.total_limit_size: must be at least 64K');

  const defaults: NodeDefaults = {
    host: get<string>('host'),
    port: get<number>('port'),
    tls: get<boolean>('tls'),
    'tls.verify': get<boolean>('tls.verify'),
    'tls.ca_file': str('tls.ca_file'),
    'tls.crt_file': str('tls.crt_file'),
    'tls.key_file': str('tls.key_file'),
    'tls.key_passwd': str('tls.key_passwd'),
    'tls.vhost': str('tls.vhost'),
    shared_key: str('shared_key'),
    empty_shared_key: get<boolean>('empty_shared_key'),
    self_hostname: get<string>('self_hostname'),
    username: str('username'),
    password: str('password'),
  };
  let upstream = options.upstream;
  const unixPath = str('unix_path');
  if (unixPath !== undefined) upstream = undefined;
  let nodes: ForwardNode[];
  let upstreamName: string | undefined;
  try {
    ({ nodes, name: upstreamName } = resolveNodes(upstream, defaults, unixPath));
  } catch (err) {
    // A node's mistake keeps its place in the list, for the loader to report at the node's line.
    if (err instanceof UpstreamNodeError) throw err;
    throw new ForwardConfigError((err as Error).message);
  }

  return {
    nodes,
    upstreamName,
    tag,
    timeAsInteger,
    sendOptions,
    requireAck,
    ackTimeoutMs,
    compress,
    retainMetadata: get<boolean>('retain_metadata_in_forward_mode'),
    extraOptions,
    workers,
    batchSizeBytes,
    retryLimit,
    retryMinBackoffMs: get<number>('retry_min_backoff'),
    retryMaxBackoffMs: get<number>('retry_max_backoff'),
    connectTimeoutMs: get<number>('net.connect_timeout'),
    keepalive: get<boolean>('net.keepalive'),
    keepaliveIdleMs: get<number>('net.keepalive_idle_timeout'),
    memBufLimitBytes: get<number>('mem_buf_limit'),
    storageType,
    totalLimitBytes,
    fullAction,
  };
}

/** Option keys floki writes itself: an add_option with one of them would make the map ambiguous. */
const RESERVED_OPTIONS = ['chunk', 'size', 'compressed', 'fluent_signal', 'metadata'];

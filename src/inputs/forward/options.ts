import { OptionValueError, type OptionSpec, type ResolvedOptions } from '../../config/options.js';
import type { ForwardSecurityOptions } from './handshake.js';

/**
 * The forward input's options, named as Fluent Bit's in_forward names them (its `net.*` keys for
 * timeouts; `net.max_connections` and `net.frame_timeout` are floki's own, in the same family, and
 * `buffer_total_limit_size` sits beside buffer_max_size as storage.total_limit_size does in Fluent Bit).
 */
export const forwardOptions: readonly OptionSpec[] = [
  { name: 'listen', type: 'string', default: '0.0.0.0', description: 'Address to listen on (TCP, and UDP for heartbeats).' },
  {
    name: 'port',
    type: 'int',
    default: 24224,
    description: 'TCP port to listen on; 0 picks a free port. The same UDP port answers heartbeats with one 0x00 byte, as Fluentd does.',
  },
  {
    name: 'unix_path',
    type: 'string',
    description: 'Listen on this unix socket instead of listen/port (an existing socket file there is replaced; no UDP heartbeat).',
  },
  { name: 'unix_perm', type: 'string', description: 'Permissions of the unix socket file, in octal (e.g. 0660).' },
  { name: 'tag', type: 'string', description: 'Replaces the tag of every incoming record.' },
  {
    name: 'tag_prefix',
    type: 'string',
    description: 'Prepended to the tag of every incoming record, as is (add the dot yourself); ignored when tag is set.',
  },
  {
    name: 'buffer_chunk_size',
    type: 'size',
    default: 1024000,
    description:
      'Growth step of the buffer of a large frame arriving in pieces while its size is unknown, up to buffer_max_size. A PackedForward frame, whose size its header gives, gets a buffer of its size plus 64 KB.',
  },
  {
    name: 'buffer_max_size',
    type: 'size',
    default: 6144000,
    description:
      'Largest frame accepted, and the limit on decompressed entries of a gzip chunk; a larger one closes its connection. A connection holds at most about this much.',
  },
  {
    name: 'buffer_total_limit_size',
    type: 'size',
    default: '64M',
    description:
      'Bytes held at once in frames not received whole yet, over all connections (each buffer counts whole: a PackedForward frame gets its size when its header arrives). Past it, the connection whose unfinished frame started first is closed, its partial frame dropped (never acked), and counted. At least twice buffer_max_size.',
  },
  {
    name: 'shared_key',
    type: 'string',
    description:
      'Require the secure forward handshake (HELO, PING, PONG) with this shared key; a client that fails it gets PONG false and is disconnected before any event is accepted.',
  },
  {
    name: 'empty_shared_key',
    type: 'bool',
    default: false,
    description: 'Require the handshake with an empty shared key (when shared_key is not set).',
  },
  {
    name: 'self_hostname',
    type: 'string',
    default: 'localhost',
    description: 'Hostname this server gives in the handshake (PONG); clients refuse a server with their own hostname.',
  },
  {
    name: 'security.users',
    type: 'list',
    default: [],
    description: "Users allowed in the handshake, each 'username password'; needs shared_key or empty_shared_key.",
  },
  { name: 'tls', type: 'bool', default: false, description: 'Serve TLS on the port (or unix socket) instead of plain TCP.' },
  { name: 'tls.crt_file', type: 'string', description: "The server's certificate chain (PEM); required with tls." },
  { name: 'tls.key_file', type: 'string', description: "The server's private key (PEM); required with tls." },
  { name: 'tls.key_passwd', type: 'string', description: 'Password of tls.key_file, if it is encrypted.' },
  {
    name: 'tls.verify',
    type: 'bool',
    default: false,
    description:
      'Require a client certificate signed by tls.ca_file (mutual TLS). Off by default: unlike Fluent Bit, which only checks a certificate a client chooses to send, on here means every client must have one.',
  },
  { name: 'tls.ca_file', type: 'string', description: 'CA certificates (PEM) that sign client certificates, for tls.verify.' },
  {
    name: 'net.io_timeout',
    type: 'duration',
    default: '0s',
    description:
      'Close a connection that sent nothing for this long; 0 never does (idle connections then make room at net.max_connections instead). Time spent paused by backpressure or waiting for the pipeline does not count.',
  },
  {
    name: 'net.frame_timeout',
    type: 'duration',
    default: '60s',
    description:
      'Close a connection that has been sending a frame for this long without completing it (a slow or stalled client holding its buffer); 0 never does. Time spent paused by backpressure or waiting for the pipeline does not count.',
  },
  {
    name: 'net.accept_timeout',
    type: 'duration',
    default: '10s',
    description: 'Time a new connection has to finish the TLS handshake and, with shared_key, to send its PING; then it is closed.',
  },
  {
    name: 'net.max_connections',
    type: 'int',
    default: 1024,
    description:
      "Connections open at once (TLS handshakes included). A new one at the limit closes the longest idle connection not busy with a chunk (first those that never sent a whole frame, then the one whose last frame is oldest), so a new client always gets in; only when every one is busy is the new one closed. Each is counted. 0 means no limit.",
  },
  {
    name: 'threaded',
    type: 'bool',
    default: true,
    description:
      "Print PackedForward records' JSON on a worker thread while the previous chunk goes through the pipeline (the event_exporter filter's line, the Loki line of a plain record). off: all on the main thread.",
  },
];

export interface ForwardTlsOptions {
  crtFile: string;
  keyFile: string;
  keyPasswd?: string;
  verify: boolean;
  caFile?: string;
}

export interface ForwardServerOptions {
  listen: string;
  port: number;
  unixPath?: string;
  unixPerm?: number;
  tag?: string;
  tagPrefix?: string;
  bufferChunkSize: number;
  bufferMaxSize: number;
  /** Present when the handshake is required. */
  security?: ForwardSecurityOptions;
  tls?: ForwardTlsOptions;
  /** Bytes held in unfinished frames over all connections, before the oldest is closed. */
  bufferTotalLimit: number;
  /** 0: no idle timeout. */
  ioTimeoutMs: number;
  /** 0: no limit on how long a frame may take to arrive. */
  frameTimeoutMs: number;
  acceptTimeoutMs: number;
  /** 0: no limit. */
  maxConnections: number;
  /** Print packed records' JSON on a worker thread (TranscodePool). */
  threaded: boolean;
}

/** Checks that span several options; run by --dry-run too. */
export function checkForwardOptions(options: ResolvedOptions): void {
  resolveForwardOptions(options);
}

/** Validated options, with the table's defaults for anything missing. */
export function resolveForwardOptions(options: ResolvedOptions): ForwardServerOptions {
  const listen = stringOption(options.listen) ?? '0.0.0.0';
  const port = numberOption(options.port, 24224);
  const bufferChunkSize = numberOption(options.buffer_chunk_size, 1024000);
  const bufferMaxSize = numberOption(options.buffer_max_size, 6144000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new OptionValueError(`port: expected 0 to 65535, got ${port}`);
  if (bufferMaxSize < 1) throw new OptionValueError(`buffer_max_size: expected at least 1 byte, got ${bufferMaxSize}`);
  if (bufferChunkSize < 1) throw new OptionValueError(`buffer_chunk_size: expected at least 1 byte, got ${bufferChunkSize}`);

  const unixPath = stringOption(options.unix_path);
  const unixPermText = stringOption(options.unix_perm);
  let unixPerm: number | undefined;
  if (unixPermText !== undefined) {
    if (!/^[0-7]{3,4}$/.test(unixPermText)) throw new OptionValueError(`unix_perm: expected octal permissions such as 0660, got '${unixPermText}'`);
    if (unixPath === undefined) throw new OptionValueError('unix_perm: only applies with unix_path');
    unixPerm = parseInt(unixPermText, 8);
  }

  const maxConnections = numberOption(options['net.max_connections'], 1024);
  if (!Number.isInteger(maxConnections) || maxConnections < 0) {
    throw new OptionValueError(`net.max_connections: expected 0 (no limit) or more, got ${maxConnections}`);
  }
  const acceptTimeoutMs = numberOption(options['net.accept_timeout'], 10_000);
  if (acceptTimeoutMs <= 0) throw new OptionValueError('net.accept_timeout: must be more than 0');
  const bufferTotalLimit = numberOption(options.buffer_total_limit_size, 64 * 1024 * 1024);
  if (bufferTotalLimit < 1) throw new OptionValueError(`buffer_total_limit_size: expected at least 1 byte, got ${bufferTotalLimit}`);

  return {
    listen,
    port,
    unixPath,
    unixPerm,
    tag: stringOption(options.tag),
    tagPrefix: stringOption(options.tag_prefix),
    // Fluent Bit lets buffer_max_size alone be lowered under the default chunk size: clamp, not fail.
    bufferChunkSize: Math.min(bufferChunkSize, bufferMaxSize),
    bufferMaxSize,
    security: resolveSecurity(options),
    tls: resolveTls(options),
    // One connection may hold a frame and the next one's start: the budget is never below that.
    bufferTotalLimit: Math.max(bufferTotalLimit, 2 * bufferMaxSize),
    ioTimeoutMs: numberOption(options['net.io_timeout'], 0),
    frameTimeoutMs: numberOption(options['net.frame_timeout'], 60_000),
    acceptTimeoutMs,
    maxConnections,
    threaded: options.threaded !== false,
  };
}

function resolveSecurity(options: ResolvedOptions): ForwardSecurityOptions | undefined {
  const sharedKey = stringOption(options.shared_key);
  const emptySharedKey = options.empty_shared_key === true;
  const users = new Map<string, string>();
  const entries = Array.isArray(options['security.users']) ? (options['security.users'] as string[]) : [];
  for (const entry of entries) {
    // Fluent Bit splits once on a space: the password may contain spaces, the username may not.
    const m = /^\s*(\S+)\s+(.*\S)\s*$/.exec(entry);
    if (!m) throw new OptionValueError(`security.users: expected 'username password', got '${entry}'`);
    users.set(m[1]!, m[2]!);
  }
  if (sharedKey === undefined && !emptySharedKey) {
    if (users.size > 0) throw new OptionValueError('security.users: users need shared_key (or empty_shared_key on)');
    return undefined;
  }
  return { sharedKey: sharedKey ?? '', selfHostname: stringOption(options.self_hostname) ?? 'localhost', users };
}

function resolveTls(options: ResolvedOptions): ForwardTlsOptions | undefined {
  const crtFile = stringOption(options['tls.crt_file']);
  const keyFile = stringOption(options['tls.key_file']);
  const caFile = stringOption(options['tls.ca_file']);
  const verify = options['tls.verify'] === true;
  if (options.tls !== true) return undefined;
  if (crtFile === undefined || keyFile === undefined) throw new OptionValueError('tls: needs tls.crt_file and tls.key_file');
  if (verify && caFile === undefined) throw new OptionValueError('tls.verify: needs tls.ca_file, the CA that signs client certificates');
  return { crtFile, keyFile, keyPasswd: stringOption(options['tls.key_passwd']), verify, caFile };
}

function stringOption(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function numberOption(value: unknown, fallback: number): number {
  return typeof value === 'number' ? value : fallback;
}

/**
 * Fluent Bit's documented keys of the plugins floki has, beyond floki's own option tables and the
 * common keys: what floki does with each. Sources: the plugin pages of fluent/fluent-bit-docs
 * (pipeline/inputs/*.md, pipeline/outputs/*.md, administration/configuring-fluent-bit/yaml/
 * pipeline-section.md) and `fluent-bit -i <plugin> -h` / `-o <plugin> -h` of Fluent Bit 5.1.1.
 *
 * - `ignore`: accepted; it has no effect in floki and changes no record delivered (the reason is
 *   logged as a warning).
 * - `refuse`: `--dry-run` rejects it with "key 'x' is not supported by floki": accepting it silently
 *   would change what is delivered, or how securely.
 * `harmlessWhen`: values that ask for what floki does anyway; the key is then accepted as `ignore`.
 *
 * A plugin's own option table always wins over this table.
 */
import type { PluginKind } from './model.js';

export interface FluentBitKey {
  key: string;
  status: 'ignore' | 'refuse';
  reason: string;
  harmlessWhen?: (value: string) => boolean;
}

const isOff = (v: string) => /^(off|false|no|0)$/i.test(v.trim());
const isOn = (v: string) => /^(on|true|yes|1)$/i.test(v.trim());

const ignore = (key: string, reason: string): FluentBitKey => ({ key, status: 'ignore', reason });
const refuse = (key: string, reason: string, harmlessWhen?: (v: string) => boolean): FluentBitKey => ({ key, status: 'refuse', reason, harmlessWhen });

/** Keys Fluent Bit accepts on every input. */
const EVERY_INPUT: readonly FluentBitKey[] = [
  ignore('log_suppress_interval', 'floki logs a repeated problem once a minute at most'),
  refuse('routable', 'an input whose records go nowhere', isOn),
  ignore('thread.ring_buffer.capacity', 'floki has no input threads ring buffer'),
  ignore('thread.ring_buffer.window', 'floki has no input threads ring buffer'),
  ignore('rate_window', 'floki publishes no input rate metric'),
  refuse('rate_gate', 'floki does not rate-limit inputs', isOff),
  ignore('rate_gate.max_bytes', 'rate_gate is off'),
  ignore('rate_gate.max_records', 'rate_gate is off'),
  ignore('rate_gate.backpressure', 'rate_gate is off'),
  ignore('rate_gate.resume_ratio', 'rate_gate is off'),
];

/** TLS keys of Fluent Bit's network inputs that floki's servers do not have. */
const SERVER_TLS: readonly FluentBitKey[] = [
  ignore('tls.debug', "floki logs TLS failures at its own log_level"),
  ignore('tls.verify_hostname', 'a server does not check a host name'),
  ignore('tls.vhost', 'a server does not send a host name'),
  refuse('tls.ca_path', 'give the CA certificates in one file (tls.ca_file)'),
  refuse('tls.verify_client_cert', 'not supported by floki'),
  refuse('tls.min_version', 'floki uses Node.js defaults (TLS 1.2 and later)'),
  refuse('tls.max_version', 'floki uses Node.js defaults (TLS 1.2 and later)'),
  refuse('tls.ciphers', 'floki uses the Node.js cipher list'),
];

/** Listening-socket keys of Fluent Bit's network inputs: none changes a record delivered. */
const SERVER_NET: readonly FluentBitKey[] = [
  ignore('net.share_port', 'floki listens in one process'),
  ignore('net.backlog', 'Node.js sets the listen backlog'),
  ignore('net.accept_timeout_log_error', 'floki logs what it closes'),
  ignore('net.keepalive', 'floki keeps client connections open as long as they are used'),
  ignore('tls.proxy.ca_file', 'a server does not connect through a proxy'),
  ignore('tls.proxy.ca_path', 'a server does not connect through a proxy'),
  ignore('tls.proxy.verify', 'a server does not connect through a proxy'),
  ignore('tls.proxy.verify_hostname', 'a server does not connect through a proxy'),
];

/** Keys Fluent Bit accepts on every output. */
const EVERY_OUTPUT: readonly FluentBitKey[] = [
  ignore('log_suppress_interval', 'floki logs a repeated problem once a minute at most'),
  ignore('tls.windows.certstore_name', 'Windows only'),
  ignore('tls.windows.use_enterprise_store', 'Windows only'),
  ignore('tls.windows.client_thumbprints', 'Windows only'),
];

/** Network keys of Fluent Bit's outputs. */
const OUTPUT_NET: readonly FluentBitKey[] = [
  ignore('ipv6', 'floki connects over whichever address family the host name resolves to'),
  ignore('tls.debug', 'floki logs TLS failures at its own log_level'),
  ignore('tls.verify_client_cert', 'a client does not verify client certificates'),
  refuse('tls.verify_hostname', 'floki checks the host name whenever tls.verify is on', isOn),
  refuse('tls.ca_path', 'give the CA certificates in one file (tls.ca_file)'),
  refuse('tls.key_passwd', 'give an unencrypted key (tls.key_file)'),
  refuse('tls.min_version', 'floki uses Node.js defaults (TLS 1.2 and later)'),
  refuse('tls.max_version', 'floki uses Node.js defaults (TLS 1.2 and later)'),
  refuse('tls.ciphers', 'floki uses the Node.js cipher list'),
  refuse('tls.proxy.ca_file', 'floki does not connect through a TLS proxy'),
  refuse('tls.proxy.ca_path', 'floki does not connect through a TLS proxy'),
  refuse('tls.proxy.verify', 'floki does not connect through a TLS proxy'),
  refuse('tls.proxy.verify_hostname', 'floki does not connect through a TLS proxy'),
  ignore('net.connect_timeout', 'floki bounds a whole request with timeout'),
  ignore('net.connect_timeout_log_error', 'floki logs every failed request'),
  ignore('net.keepalive', 'floki keeps connections alive'),
  ignore('net.keepalive_idle_timeout', 'Node.js closes idle connections itself'),
  ignore('net.keepalive_max_recycle', 'Node.js reuses connections itself'),
  ignore('net.io_timeout', 'floki bounds a whole request with timeout'),
  ignore('net.dns.mode', 'floki resolves names with the system resolver'),
  ignore('net.dns.resolver', 'floki resolves names with the system resolver'),
  ignore('net.dns.prefer_ipv4', 'floki resolves names with the system resolver'),
  ignore('net.dns.prefer_ipv6', 'floki resolves names with the system resolver'),
  ignore('net.max_worker_connections', 'floki bounds connections with workers'),
  refuse('net.source_address', 'floki connects from the default address'),
  ignore('net.proxy_env_ignore', 'floki never takes a proxy from the environment'),
  ignore('net.tcp_keepalive', 'TCP keepalive probes change nothing delivered'),
  ignore('net.tcp_keepalive_time', 'TCP keepalive probes change nothing delivered'),
  ignore('net.tcp_keepalive_interval', 'TCP keepalive probes change nothing delivered'),
  ignore('net.tcp_keepalive_probes', 'TCP keepalive probes change nothing delivered'),
  refuse('proxy', 'floki does not connect through an HTTP proxy'),
];

/** By plugin kind and name: Fluent Bit's keys that floki's option tables do not have. */
export const FLUENT_BIT_KEYS: Readonly<Record<PluginKind, Readonly<Record<string, readonly FluentBitKey[]>>>> = {
  input: {
    forward: [
      ...EVERY_INPUT,
      ...SERVER_TLS,
      ...SERVER_NET,
      refuse('host', "floki's forward input takes the address as listen"),
      ignore('workers', 'floki reads every connection on one event loop'),
    ],
    tail: [
      ...EVERY_INPUT,
      ignore('static_batch_size', 'floki reads files in turns of buffer_chunk_size'),
      ignore('event_batch_size', 'floki reads files in turns of buffer_chunk_size'),
      ignore('file_cache_advise', 'floki leaves the page cache to the kernel'),
      ignore('db.compare_filename', "floki identifies a file by device, inode and a hash of its first bytes, whatever its name"),
      ignore('db.locking', "floki's db is its own positions file, not SQLite: only this input writes it"),
      ignore('db.journal_mode', "floki's db is its own positions file, not SQLite: it is replaced whole, atomically, with no journal"),
      ignore('watcher_interval', 'floki checks every followed file for rotation every second (four times a second with inotify_watcher off)'),
      ignore('progress_check_interval', 'floki reads a file as soon as inotify or its stat polling sees it grow'),
      ignore('progress_check_interval_nsec', 'floki reads a file as soon as inotify or its stat polling sees it grow'),
      ignore('windows.path_encoding', 'Windows only'),
      refuse('ignore_active_older_files', 'floki follows a file that is still written to, whatever ignore_older says'),
      refuse('unicode.encoding', 'floki reads files as UTF-8'),
      refuse('generic.encoding', 'floki reads files as UTF-8'),
    ],
    http: [
      ...EVERY_INPUT,
      ...SERVER_TLS,
      ...SERVER_NET,
      ignore('net.io_timeout', 'floki closes a connection that stays idle past Node.js server timeouts'),
      ignore('net.accept_timeout', 'floki accepts connections as they come'),
      ignore('tls.verify', "floki's http input does not ask for client certificates"),
      refuse('tls.ca_file', "floki's http input does not ask for client certificates"),
      refuse('tls.key_passwd', 'give an unencrypted key (tls.key_file)'),
      refuse('host', "floki's http input takes the address as listen"),
      ignore('buffer_chunk_size', 'floki reads a request body as it arrives, up to buffer_max_size'),
      ignore('http_server.buffer_chunk_size', 'floki reads a request body as it arrives, up to buffer_max_size'),
      refuse('http_server.buffer_max_size', "floki's http input names it buffer_max_size"),
      ignore('http_server.idle_timeout', 'floki leaves idle connections to Node.js'),
      ignore('max_connections', 'floki does not limit connections to the http input'),
      ignore('http_server.max_connections', 'floki does not limit connections to the http input'),
      ignore('workers', 'floki serves requests on one event loop'),
      ignore('http_server.workers', 'floki serves requests on one event loop'),
      ignore('http_server.ingress_queue_event_limit', 'floki has no ingress queue: a request is answered once its records are queued'),
      ignore('http_server.ingress_queue_byte_limit', 'floki has no ingress queue: a request is answered once its records are queued'),
      ignore('success_header', 'floki adds no headers to its answers'),
      refuse('oauth2.validate', 'use bearer_token', isOff),
      refuse('oauth2.issuer', 'use bearer_token'),
      refuse('oauth2.jwks_url', 'use bearer_token'),
      refuse('oauth2.allowed_audience', 'use bearer_token'),
      refuse('oauth2.allowed_clients', 'use bearer_token'),
      refuse('oauth2.jwks_refresh_interval', 'use bearer_token'),
    ],
    kubernetes_events: [
      ...EVERY_INPUT,
      ignore('db.sync', "floki's db is a small file written atomically"),
      ignore('db.locking', "floki's db is a small file written atomically"),
      ignore('db.journal_mode', "floki's db is a small file written atomically"),
      ignore('interval_sec', 'floki watches again at once after a watch ends, and backs off after errors'),
      ignore('interval_nsec', 'floki watches again at once after a watch ends, and backs off after errors'),
      ignore('tls.debug', 'floki logs TLS failures at its own log_level'),
      refuse('tls.vhost', 'floki checks the name in kube_url'),
      refuse('kube_ca_path', 'give the CA certificate in one file (kube_ca_file)'),
      // Fluent Bit lists its network client keys for this input too; floki connects to kube_url.
      ignore('listen', 'floki connects to kube_url'),
      ignore('host', 'floki connects to kube_url'),
      ignore('port', 'floki connects to kube_url'),
      ignore('tls', 'floki uses TLS when kube_url is https'),
      refuse('tls.ca_file', 'use kube_ca_file'),
      refuse('tls.crt_file', 'floki authenticates with kube_token_file'),
      refuse('tls.key_file', 'floki authenticates with kube_token_file'),
      ...OUTPUT_NET.filter((k) => !['tls.debug', 'ipv6', 'proxy'].includes(k.key)),
    ],
    dummy: [
      ...EVERY_INPUT,
      refuse('metadata', 'floki does not add metadata to dummy records'),
      refuse('interval_sec', 'use rate'),
      refuse('interval_nsec', 'use rate'),
      refuse('copies', 'floki generates one record per tick'),
      refuse('fixed_timestamp', 'use start_time_sec and start_time_nsec'),
      ignore('flush_on_startup', 'the first record comes after one tick'),
      ignore('test_hang_on_exit', "a Fluent Bit test switch"),
    ],
  },
  filter: {
    kubernetes: [
      refuse('tls.vhost', 'floki checks the name in kube_url'),
      refuse('tls.verify_hostname', 'floki checks the host name whenever tls.verify is on', isOn),
      refuse('kube_ca_path', 'give the CA certificate in one file (kube_ca_file)'),
      refuse('kube_token_command', 'give the token in a file (kube_token_file)'),
      refuse('kube_meta_preload_cache_dir', 'floki reads metadata from the API server (or the kubelet) only'),
      ignore('kube_namespace_file', 'floki does not need its own namespace'),
      refuse('use_journal', 'floki reads pod names from tags and container log file names, not from journald', isOff),
      refuse('dummy_meta', 'a Fluent Bit test switch that adds made-up metadata', isOff),
      refuse('aws_use_pod_association', 'AWS EKS pod association is not supported by floki', isOff),
      refuse('use_pod_association', 'AWS EKS pod association is not supported by floki', isOff),
      ...[
        'aws_pod_association_host',
        'aws_pod_association_endpoint',
        'aws_pod_association_port',
        'aws_pod_service_map_ttl',
        'aws_pod_service_map_refresh_interval',
        'aws_pod_service_preload_cache_dir',
        'aws_pod_association_host_server_ca_file',
        'aws_pod_association_host_client_cert_file',
        'aws_pod_association_host_client_key_file',
        'aws_pod_association_host_tls_debug',
        'aws_pod_association_host_tls_verify',
        'set_platform',
      ].map((k) => ignore(k, 'AWS EKS pod association is off (floki does not have it)')),
    ],
  },
  output: {
    // The Loki output does these TLS keys and net.keepalive itself.
    loki: [...EVERY_OUTPUT, ...OUTPUT_NET.filter((k) => !['tls.verify_hostname', 'tls.ca_path', 'tls.key_passwd', 'tls.min_version', 'tls.max_version', 'tls.ciphers', 'net.keepalive'].includes(k.key))],
    stdout: [...EVERY_OUTPUT],
    null: [
      ...EVERY_OUTPUT,
      ignore('format', 'the null output writes nothing'),
      ignore('json_date_key', 'the null output writes nothing'),
      ignore('json_date_format', 'the null output writes nothing'),
    ],
    // The forward output has its own TLS key password and connection keys.
    forward: [...EVERY_OUTPUT, ...OUTPUT_NET.filter((k) => !['tls.key_passwd', 'net.connect_timeout', 'net.keepalive', 'net.keepalive_idle_timeout'].includes(k.key))],
  },
};

export function fluentBitKey(kind: PluginKind, plugin: string, key: string): FluentBitKey | undefined {
  return FLUENT_BIT_KEYS[kind][plugin]?.find((k) => k.key === key);
}

/**
 * The http input's options, named as Fluent Bit's `http` input names them. `bearer_token` is floki's
 * own: Fluent Bit's http input has no authentication of its own.
 */
import { OptionValueError, type OptionSpec, type ResolvedOptions } from '../../config/options.js';

export const httpOptions: readonly OptionSpec[] = [
  { name: 'listen', type: 'string', default: '0.0.0.0', description: 'Address to listen on.' },
  { name: 'port', type: 'int', default: 9880, description: 'TCP port to listen on; 0 picks a free port.' },
  { name: 'tag', type: 'string', description: 'Tag of the records posted to `/` (a post to `/<tag>` gives its own); default: the instance name (`http.0`).' },
  {
    name: 'tag_key',
    type: 'string',
    description: "A record key whose string value replaces the record's tag (the tag otherwise comes from the URL path, else the instance name).",
  },
  {
    name: 'buffer_max_size',
    type: 'size',
    default: '4M',
    description: 'Largest request body accepted, before and after gzip decompression; a larger one is answered 413.',
  },
  {
    name: 'successful_response_code',
    type: 'int',
    default: 201,
    description: 'Status answered once the records are queued: 200, 201 or 204.',
  },
  {
    name: 'bearer_token',
    type: 'string',
    description:
      'floki extension (Fluent Bit has none): when set, requests must carry Authorization: Bearer <token>, others are answered 401.',
  },
  {
    name: 'add_remote_addr',
    type: 'bool',
    default: false,
    description:
      "Add the client's address from the X-Forwarded-For header to each record, under remote_addr_key: its first address, of the last such header with http2 on, of the first with http2 off (Fluent Bit's rule). A record that has the key keeps its own; a request without the header adds nothing.",
  },
  { name: 'remote_addr_key', type: 'string', default: 'REMOTE_ADDR', description: 'The record key add_remote_addr writes.' },
  {
    name: 'http2',
    type: 'bool',
    default: true,
    description: 'Serve HTTP/2 beside HTTP/1.1 on the same port: by ALPN over TLS, by prior knowledge (the HTTP/2 preface) in clear text.',
  },
  { name: 'http_server.http2', type: 'bool', description: "Fluent Bit's newer name of http2; when set, it wins." },
  {
    name: 'enable_health_endpoint',
    type: 'bool',
    default: false,
    description: 'Answer `GET /health` with 200 and `{"status": "ok", "timestamp": ...}` (Fluent Bit\'s JSON) instead of treating `/health` as a tag.',
  },
  { name: 'tls', type: 'bool', default: false, description: 'Serve HTTPS with tls.crt_file and tls.key_file.' },
  { name: 'tls.crt_file', type: 'string', description: 'PEM certificate (chain) for tls.' },
  { name: 'tls.key_file', type: 'string', description: 'PEM private key for tls.' },
];

export interface HttpInputOptions {
  listen: string;
  port: number;
  tag?: string;
  tagKey?: string;
  bufferMaxSize: number;
  successCode: 200 | 201 | 204;
  bearerToken?: string;
  tls?: { certFile: string; keyFile: string };
  /** add_remote_addr: the record key, or undefined when off. */
  remoteAddrKey?: string;
  http2: boolean;
  healthEndpoint: boolean;
}

export function resolveHttpOptions(options: ResolvedOptions): HttpInputOptions {
  const port = typeof options.port === 'number' ? options.port : 9880;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new OptionValueError(`port: expected 0 to 65535, got ${port}`);
  const bufferMaxSize = typeof options.buffer_max_size === 'number' ? options.buffer_max_size : 4 * 1024 * 1024;
  if (bufferMaxSize < 1) throw new OptionValueError(`buffer_max_size: expected at least 1 byte, got ${bufferMaxSize}`);
  const code = typeof options.successful_response_code === 'number' ? options.successful_response_code : 201;
  if (code !== 200 && code !== 201 && code !== 204) {
    throw new OptionValueError(`successful_response_code: expected 200, 201 or 204, got ${code}`);
  }
  let tls: HttpInputOptions['tls'];
  if (options.tls === true) {
    const certFile = nonEmpty(options['tls.crt_file']);
    const keyFile = nonEmpty(options['tls.key_file']);
    if (!certFile || !keyFile) throw new OptionValueError('tls: on needs tls.crt_file and tls.key_file');
    tls = { certFile, keyFile };
  }
  return {
    listen: nonEmpty(options.listen) ?? '0.0.0.0',
    port,
    tag: nonEmpty(options.tag),
    tagKey: nonEmpty(options.tag_key),
    bufferMaxSize,
    successCode: code,
    bearerToken: nonEmpty(options.bearer_token),
    tls,
    remoteAddrKey: options.add_remote_addr === true ? nonEmpty(options.remote_addr_key) ?? 'REMOTE_ADDR' : undefined,
    http2: (options['http_server.http2'] ?? options.http2) !== false,
    healthEndpoint: options.enable_health_endpoint === true,
  };
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

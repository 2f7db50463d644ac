/**
 * The receivers a forward output sends to: one (host/port or unix_path) or an upstream's nodes.
 *
 * An upstream reaches the output as the resolved `upstream` option: a list of nodes, or
 * `{name, nodes}`, each node a map of Fluent Bit's `[NODE]` keys (name, host, port, tls, tls.*) and
 * the forward output's connection keys (shared_key, empty_shared_key, self_hostname, username,
 * password). Values may be text (classic files) or typed (YAML). A key a node leaves out falls back to
 * the output's own: Fluent Bit reads only the node's keys in HA mode, so a config written for it
 * (every node complete) means the same here. Keys that change the frame's encoding (tag, compress,
 * time_as_integer, ...) are the output's alone in floki, since a frame is encoded before a node is
 * picked.
 */
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { OptionValueError, parseBool, parseInt10 } from '../../config/options.js';
import { UpstreamNodeError } from '../../config/upstream-error.js';
import type { HandshakeCredentials } from '../../forward/handshake-client.js';

export interface NodeTls {
  verify: boolean;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  passphrase?: string;
  /** SNI and the name verified, when it differs from host (`tls.vhost`). */
  servername?: string;
}

export interface ForwardNode {
  /** For logs and metrics: the node's `name`, else host:port or the socket path. */
  name: string;
  host: string;
  port: number;
  unixPath?: string;
  tls?: NodeTls;
  /** Set when the secure forward handshake is done with this node. */
  security?: HandshakeCredentials;
}

/** The output-level values a node falls back to. */
export interface NodeDefaults {
  host: string;
  port: number;
  tls: boolean;
  'tls.verify': boolean;
  'tls.ca_file'?: string;
  'tls.crt_file'?: string;
  'tls.key_file'?: string;
  'tls.key_passwd'?: string;
  'tls.vhost'?: string;
  shared_key?: string;
  empty_shared_key: boolean;
  self_hostname: string;
  username?: string;
  password?: string;
}

const NODE_KEYS = new Set([
  'name',
  'host',
  'port',
  'tls',
  'tls.verify',
  'tls.ca_file',
  'tls.crt_file',
  'tls.key_file',
  'tls.key_passwd',
  'tls.vhost',
  'shared_key',
  'empty_shared_key',
  'self_hostname',
  'username',
  'password',
]);
const NODE_KEYS_NOT_SUPPORTED = new Set(['tls.debug', 'tls.ca_path', 'tls.verify_hostname']);

export function resolveNodes(upstream: unknown, defaults: NodeDefaults, unixPath?: string): { nodes: ForwardNode[]; name?: string } {
  if (unixPath !== undefined) {
    return { nodes: [{ name: `unix:${unixPath}`, host: '', port: 0, unixPath, security: security(defaults, {}, 'unix_path') }] };
  }
  if (upstream === undefined || upstream === null || upstream === '') return { nodes: [node(defaults, {}, undefined)] };
  if (typeof upstream === 'string') {
    // The config loader replaces a file path or an upstream_servers name by the nodes it names.
    throw new Error(`upstream: '${upstream}' names an upstream file or upstream_servers entry, which only the config loader reads; give the nodes (a list of {name, host, port, ...}) here`);
  }
  let name: string | undefined;
  let list: unknown = upstream;
  if (!Array.isArray(upstream) && typeof upstream === 'object') {
    const group = lowerKeys(upstream as Record<string, unknown>);
    name = group.name === undefined ? undefined : String(group.name);
    list = group.nodes;
  }
  if (!Array.isArray(list) || list.length === 0) throw new Error('upstream: expected a list of nodes (or {name, nodes}), each with at least host');
  const nodes = list.map((entry, i) => {
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) throw new UpstreamNodeError(`upstream: node ${i + 1} is not a map of keys`, i);
    const keys = lowerKeys(entry as Record<string, unknown>);
    const where = `upstream node ${keys.name === undefined ? i + 1 : `'${String(keys.name)}'`}`;
    for (const key of Object.keys(keys)) {
      if (NODE_KEYS_NOT_SUPPORTED.has(key)) throw new UpstreamNodeError(`${where}: ${key}: not supported by floki`, i, key);
      if (!NODE_KEYS.has(key)) throw new UpstreamNodeError(`${where}: key '${key}' is not supported per node by floki (set it on the output)`, i, key);
    }
    if (keys.host === undefined) throw new UpstreamNodeError(`${where}: missing host`, i);
    try {
      return node(defaults, keys, where);
    } catch (err) {
      throw err instanceof NodeKeyError ? new UpstreamNodeError(err.message, i, err.key) : err;
    }
  });
  const names = new Set<string>();
  nodes.forEach((n, i) => {
    if (names.has(n.name)) throw new UpstreamNodeError(`upstream: two nodes are named '${n.name}'`, i, 'name');
    names.add(n.name);
  });
  return { nodes, name };
}

function node(defaults: NodeDefaults, keys: Record<string, unknown>, where: string | undefined): ForwardNode {
  const at = where ?? 'output';
  const host = text(keys.host) ?? defaults.host;
  const port = keys.port === undefined ? defaults.port : value(at, 'port', () => parseInt10(keys.port));
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new NodeKeyError(`${where ? `${where}: ` : ''}port: must be 1-65535, got ${port}`, 'port');
  const tlsOn = keys.tls === undefined ? defaults.tls : value(at, 'tls', () => parseBool(keys.tls));
  let tls: NodeTls | undefined;
  if (tlsOn) {
    const file = (key: 'tls.ca_file' | 'tls.crt_file' | 'tls.key_file'): Buffer | undefined => {
      const path = text(keys[key]) ?? defaults[key];
      if (path === undefined) return undefined;
      try {
        return readFileSync(path);
      } catch (err) {
        throw new NodeKeyError(`${where ? `${where}: ` : ''}${key}: cannot read '${path}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, key);
      }
    };
    const cert = file('tls.crt_file');
    const key = file('tls.key_file');
    if ((cert === undefined) !== (key === undefined)) throw new NodeKeyError(`${where ? `${where}: ` : ''}tls.crt_file and tls.key_file: give both or neither`, keys['tls.crt_file'] === undefined ? 'tls.key_file' : 'tls.crt_file');
    tls = {
      verify: keys['tls.verify'] === undefined ? defaults['tls.verify'] : value(at, 'tls.verify', () => parseBool(keys['tls.verify'])),
      ca: file('tls.ca_file'),
      cert,
      key,
      passphrase: text(keys['tls.key_passwd']) ?? defaults['tls.key_passwd'],
      servername: text(keys['tls.vhost']) ?? defaults['tls.vhost'],
    };
    try {
      // Reads the PEM files as a connection would: a bad key or passphrase is a config error, found now.
      createSecureContext({ ca: tls.ca, cert: tls.cert, key: tls.key, passphrase: tls.passphrase });
    } catch (err) {
      throw new NodeKeyError(`${where ? `${where}: ` : ''}tls: cannot use the certificate files: ${(err as Error).message}`, 'tls');
    }
  }
  return { name: text(keys.name) ?? `${host}:${port}`, host, port, tls, security: security(defaults, keys, where) };
}

function security(defaults: NodeDefaults, keys: Record<string, unknown>, where: string | undefined): HandshakeCredentials | undefined {
  const at = where ?? 'output';
  const empty = keys.empty_shared_key === undefined ? defaults.empty_shared_key : value(at, 'empty_shared_key', () => parseBool(keys.empty_shared_key));
  const sharedKey = empty ? '' : (text(keys.shared_key) ?? defaults.shared_key);
  const username = text(keys.username) ?? defaults.username ?? '';
  const password = text(keys.password) ?? defaults.password ?? '';
  if (sharedKey === undefined) {
    if (username !== '' || password !== '') {
      throw new NodeKeyError(`${where ? `${where}: ` : ''}username/password need shared_key or empty_shared_key: they are sent in the secure forward handshake`, keys.username === undefined ? 'password' : 'username');
    }
    return undefined;
  }
  return { sharedKey, selfHostname: text(keys.self_hostname) ?? defaults.self_hostname, username, password };
}

function value<T>(where: string, key: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof OptionValueError) throw new NodeKeyError(`${where === 'output' ? '' : `${where}: `}${key}: ${err.message}`, key);
    throw err;
  }
}

/** A node's key (or the output's own, for a single node) with a bad value. */
class NodeKeyError extends Error {
  constructor(
    message: string,
    readonly key?: string,
  ) {
    super(message);
  }
}

function text(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  const s = String(v);
  return s.length === 0 ? undefined : s;
}

function lowerKeys(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) out[k.toLowerCase()] = v;
  return out;
}

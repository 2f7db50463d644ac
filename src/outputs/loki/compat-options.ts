/**
 * Fluent Bit's networking and TLS keys that an out_loki section may carry (its docs' "Networking and
 * TLS configuration" sends there): the TLS ones floki does, a few net ones it honours or needs not
 * (connection tuning that changes nothing delivered: accepted, no effect), and those whose meaning
 * floki cannot give (a source address, an HTTPS proxy): refused by the check, naming the key and
 * saying "not supported by floki", never silently ignored.
 */
import { createPrivateKey } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { OptionSpec, ResolvedOptions } from '../../config/options.js';

export const TLS_EXTRA_OPTIONS: readonly OptionSpec[] = [
  { name: 'tls.ca_path', type: 'string', description: 'A directory whose PEM files are CA certificates to trust, with tls.ca_file.' },
  { name: 'tls.key_passwd', type: 'string', description: 'Password of an encrypted tls.key_file.' },
  { name: 'tls.min_version', type: 'string', description: 'Oldest TLS version to use: TLSv1.1, TLSv1.2 or TLSv1.3.' },
  { name: 'tls.max_version', type: 'string', description: 'Newest TLS version to use: TLSv1.1, TLSv1.2 or TLSv1.3.' },
  { name: 'tls.ciphers', type: 'string', description: 'OpenSSL cipher list for TLS up to 1.2.' },
  {
    name: 'tls.verify_hostname',
    type: 'bool',
    default: true,
    description: "With tls.verify, check that the certificate names the host (or tls.vhost). Fluent Bit's default is off; floki's is on.",
  },
  { name: 'tls.debug', type: 'string', description: "Fluent Bit's TLS debug level: accepted, no effect (floki logs TLS errors with the request's)." },
];

/** Connection tuning: nothing delivered depends on it. */
const NO_EFFECT = [
  'net.connect_timeout',
  'net.connect_timeout_log_error',
  'net.io_timeout',
  'net.keepalive_idle_timeout',
  'net.keepalive_max_recycle',
  'net.max_worker_connections',
  'net.dns.mode',
  'net.dns.resolver',
  'net.dns.prefer_ipv4',
  'net.dns.prefer_ipv6',
  'net.tcp_keepalive',
  'net.tcp_keepalive_time',
  'net.tcp_keepalive_interval',
  'net.tcp_keepalive_probes',
  'net.proxy_env_ignore',
];

/** Keys whose meaning floki cannot give: where the data goes would differ. */
const NOT_SUPPORTED: Record<string, string> = {
  'net.source_address': 'floki connects from the address the system picks',
  'tls.proxy.ca_file': 'floki does not connect through an HTTPS proxy',
  'tls.proxy.ca_path': 'floki does not connect through an HTTPS proxy',
  'tls.proxy.verify': 'floki does not connect through an HTTPS proxy',
  'tls.proxy.verify_hostname': 'floki does not connect through an HTTPS proxy',
};

export const NET_OPTIONS: readonly OptionSpec[] = [
  { name: 'net.keepalive', type: 'bool', default: true, description: 'Keep connections to Loki open between requests.' },
  ...NO_EFFECT.map((name): OptionSpec => ({ name, type: 'string', description: "Fluent Bit's connection tuning: accepted, no effect in floki." })),
  ...Object.entries(NOT_SUPPORTED).map(([name, why]): OptionSpec => ({ name, type: 'string', description: `Not supported by floki (${why}): the config check refuses it.` })),
];

/** Throws, naming the first key set that floki cannot honour. */
export function refuseUnsupported(options: ResolvedOptions): void {
  for (const [name, why] of Object.entries(NOT_SUPPORTED)) {
    if (options[name] !== undefined && options[name] !== null) throw new Error(`${name}: not supported by floki (${why})`);
  }
}

const TLS_VERSIONS = new Map([
  ['tlsv1.1', 'TLSv1.1'],
  ['tlsv1.2', 'TLSv1.2'],
  ['tlsv1.3', 'TLSv1.3'],
]);

/** Node's name of a TLS version as Fluent Bit spells it (any case); throws on anything else. */
export function tlsVersion(option: string, value: string | undefined): 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3' | undefined {
  if (value === undefined) return undefined;
  const v = TLS_VERSIONS.get(value.trim().toLowerCase());
  if (v === undefined) throw new Error(`${option}: expected TLSv1.1, TLSv1.2 or TLSv1.3, got '${value}'`);
  return v as 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
}

/** The PEM text of every file in `dir` holding a certificate (what OpenSSL's CApath would find). */
export function readCaPath(dir: string): Buffer {
  const parts: Buffer[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (!statSync(path).isFile()) continue;
    const pem = readFileSync(path);
    if (pem.includes('-----BEGIN CERTIFICATE-----')) parts.push(pem, Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

/** An encrypted PEM key opened with its password, as unencrypted PKCS#8 PEM (both transports take that). */
export function decryptKey(key: Buffer, passphrase: string): Buffer {
  return Buffer.from(createPrivateKey({ key, passphrase }).export({ type: 'pkcs8', format: 'pem' }));
}

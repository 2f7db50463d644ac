/**
 * Fluent Bit's networking and TLS keys that an out_loki section may carry (its docs' "Networking and
 * TLS configuration" sends there) and that floki does. The rest (connection tuning that changes nothing
 * delivered, a source address, an HTTPS proxy) are in src/config/fluent-bit-keys.ts with every other
 * plugin's: accepted with a warning, or refused as "not supported by floki".
 */
import { createPrivateKey } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { OptionSpec } from '../../config/options.js';

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
];

export const NET_OPTIONS: readonly OptionSpec[] = [
  { name: 'net.keepalive', type: 'bool', default: true, description: 'Keep connections to Loki open between requests.' },
];

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

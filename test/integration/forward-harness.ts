/**
 * Shared by the forward input's integration and interop tests: an in-process forward server with a
 * collecting pipeline, a raw TCP/TLS client that does the secure forward handshake by hand (from the
 * spec, not from floki's code), and throwaway TLS certificates made with openssl at run time.
 */
import { type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { Packr, unpackMultiple } from 'msgpackr';
import { pino, type Logger } from 'pino';
import type { LogEvent } from '../../src/core/event.js';
import type { InputContext } from '../../src/core/plugin.js';
import { Metrics } from '../../src/observability/metrics.js';
import { ForwardServer, forwardInput } from '../../src/inputs/forward/index.js';
import { ParserRegistry } from '../../src/parsers/registry.js';
import { runPeer } from '../helpers/peers.js';

export const NAME = 'forward.test';

export interface Harness {
  server: ForwardServer;
  port: number;
  events: LogEvent[];
  metrics: Metrics;
  metric(name: string, labels?: Record<string, string>): Promise<number>;
}

export type Emit = (events: LogEvent[], collected: LogEvent[]) => Promise<void>;

/** A forward input on 127.0.0.1 (a free port unless `options` says otherwise), collecting what it emits. */
export async function startServer(
  t: TestContext,
  options: Record<string, unknown> = {},
  emit?: Emit,
  log: Logger = pino({ level: 'silent' }),
): Promise<Harness> {
  const events: LogEvent[] = [];
  const metrics = new Metrics();
  const ctx: InputContext = {
    name: NAME,
    log,
    metrics,
    service: { flushMs: 1000, graceMs: 5000, logLevel: 'info' }, parsers: new ParserRegistry(),
    paused: false,
    emit: emit ? (batch) => emit(batch, events) : async (batch) => void events.push(...batch),
  };
  const input = forwardInput.create({ listen: '127.0.0.1', port: 0, buffer_chunk_size: 1024000, buffer_max_size: 6144000, 'net.accept_timeout': 10_000, 'net.io_timeout': 0, 'net.max_connections': 1024, 'security.users': [], ...options }, ctx);
  assert.ok(input instanceof ForwardServer);
  await input.start();
  t.after(() => input.stop());
  const port = input.address()?.port ?? 0;
  return { server: input, port, events, metrics, metric: (name, labels = {}) => metrics.value(name, { name: NAME, ...labels }) };
}

/** A log that keeps its JSON lines, for checking what was logged. */
export function capturingLog(level = 'info'): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  return { log: pino({ level }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) }), lines };
}

const packr = new Packr({ useRecords: false });
export const pack = (value: unknown): Buffer => packr.pack(value);

/** A forward client over TCP, TLS or a unix socket: writes bytes, collects what the server answers. */
export class RawClient {
  private readonly received: Buffer[] = [];
  private waiters: (() => void)[] = [];
  closed = false;

  constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.received.push(chunk);
      this.wake();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  static async connect(t: TestContext, target: number | { path: string } | { port: number; tls: ConnectionOptions }): Promise<RawClient> {
    let socket: Socket;
    let ready: string;
    if (typeof target === 'number') {
      socket = connect({ host: '127.0.0.1', port: target });
      ready = 'connect';
    } else if ('path' in target) {
      socket = connect({ path: target.path });
      ready = 'connect';
    } else {
      socket = tlsConnect({ host: '127.0.0.1', port: target.port, servername: 'localhost', ...target.tls });
      ready = 'secureConnect';
    }
    t.after(() => void socket.destroy());
    await new Promise<void>((resolve, reject) => socket.once(ready, resolve).once('error', reject));
    return new RawClient(socket);
  }

  write(bytes: Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(bytes, (err) => (err ? reject(err) : resolve())));
  }

  bytes(): Buffer {
    return Buffer.concat(this.received);
  }

  /** msgpack replies received so far. */
  replies(): unknown[] {
    return this.received.length === 0 ? [] : (unpackMultiple(this.bytes()) as unknown[]);
  }

  /** Waits until `n` msgpack replies arrived (or the connection closed); returns them. */
  async waitReplies(n: number, timeoutMs = 5000): Promise<unknown[]> {
    const complete = (): number => {
      try {
        return this.replies().length;
      } catch {
        return 0; // a reply cut in two by the network: wait for the rest
      }
    };
    await this.until(() => this.closed || complete() >= n, `${n} replies`, timeoutMs);
    return this.replies();
  }

  waitClosed(timeoutMs = 5000): Promise<void> {
    return this.until(() => this.closed, 'the connection to close', timeoutMs);
  }

  private until(done: () => boolean, what: string, timeoutMs: number): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; got ${this.bytes().length} bytes`)), timeoutMs);
      const check = (): void => {
        if (!done()) return void this.waiters.push(check);
        clearTimeout(timer);
        resolve();
      };
      this.waiters.push(check);
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

const sha512hex = (...parts: (Buffer | string)[]): string => {
  const h = createHash('sha512');
  for (const p of parts) h.update(p);
  return h.digest('hex');
};

export interface Credentials {
  sharedKey: string;
  hostname?: string;
  user?: string;
  password?: string;
}

/**
 * The client side of the secure forward handshake, from the spec: read HELO, send PING, read PONG
 * and check the server's digest. Returns the PONG.
 */
export async function handshake(client: RawClient, credentials: Credentials): Promise<{ pong: unknown[]; helo: unknown[] }> {
  const [helo] = (await client.waitReplies(1)) as [unknown[]];
  assert.equal(helo[0], 'HELO');
  const options = helo[1] as { nonce: Uint8Array; auth: Uint8Array | string; keepalive: boolean };
  const nonce = Buffer.from(options.nonce);
  const hostname = credentials.hostname ?? 'test-client';
  const salt = randomBytes(16);
  const auth = typeof options.auth === 'string' ? undefined : Buffer.from(options.auth);
  const ping = [
    'PING',
    hostname,
    salt,
    sha512hex(salt, hostname, nonce, credentials.sharedKey),
    auth ? (credentials.user ?? '') : '',
    auth ? sha512hex(auth, credentials.user ?? '', credentials.password ?? '') : '',
  ];
  await client.write(pack(ping));
  const replies = (await client.waitReplies(2)) as unknown[][];
  const pong = replies[1]!;
  assert.ok(pong, 'a PONG');
  if (pong[1] === true) assert.equal(pong[4], sha512hex(salt, String(pong[3]), nonce, credentials.sharedKey), 'the server proves it knows the key');
  return { pong, helo };
}

export interface TestCertificates {
  dir: string;
  caCrt: string;
  serverCrt: string;
  serverKey: string;
  clientCrt: string;
  clientKey: string;
  /** A client certificate from another CA, which tls.verify must refuse. */
  strangerCrt: string;
  strangerKey: string;
}

/**
 * A CA, a server certificate for localhost / 127.0.0.1 and client certificates, made with openssl in a
 * temporary folder for this test run only (no private key is committed). EC keys: fast to make.
 * `cleanup` registers the folder's removal: pass `t.after.bind(t)` or node:test's `after`.
 */
export function makeCertificates(cleanup: (fn: () => void) => void): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'floki-tls-'));
  cleanup(() => rmSync(dir, { recursive: true, force: true }));
  const f = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): void => void runPeer('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const key = (name: string): void => openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', f(name));
  const selfSigned = (keyName: string, crtName: string, cn: string): void => {
    key(keyName);
    openssl('req', '-x509', '-new', '-key', f(keyName), '-out', f(crtName), '-days', '1', '-subj', `/CN=${cn}`);
  };
  const signed = (name: string, cn: string, ca: string, ext: string): void => {
    key(`${name}.key`);
    openssl('req', '-new', '-key', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', `/CN=${cn}`);
    writeFileSync(f(`${name}.ext`), ext);
    openssl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f(`${ca}.crt`), '-CAkey', f(`${ca}.key`), '-CAcreateserial', '-out', f(`${name}.crt`), '-days', '1', '-extfile', f(`${name}.ext`));
  };
  selfSigned('ca.key', 'ca.crt', 'floki test CA');
  selfSigned('stranger-ca.key', 'stranger-ca.crt', 'another CA');
  signed('server', 'localhost', 'ca', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  signed('client', 'test-client', 'ca', 'extendedKeyUsage=clientAuth\n');
  signed('stranger', 'stranger', 'stranger-ca', 'extendedKeyUsage=clientAuth\n');
  return {
    dir,
    caCrt: f('ca.crt'),
    serverCrt: f('server.crt'),
    serverKey: f('server.key'),
    clientCrt: f('client.crt'),
    clientKey: f('client.key'),
    strangerCrt: f('stranger.crt'),
    strangerKey: f('stranger.key'),
  };
}

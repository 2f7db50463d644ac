/**
 * The npm `fluent-logger` package (v3), a real client, sending through floki (the CLI, its own
 * process) to the decoding Loki receiver: every event mode it offers, with and without
 * requireAckResponse, with a shared key and users, over TLS and mutual TLS, and over a unix socket.
 * Every record must arrive once, with its tag and its exact timestamp.
 */
import { after, before, test } from 'node:test';
import type { EventEmitter } from 'node:events';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fluentLogger from 'fluent-logger';
import { makeCertificates, type TestCertificates } from '../integration/forward-harness.js';
import { waitFor } from '../helpers/wait.js';
import { entriesBy, forwardInput, startFloki, type RunningFloki } from './floki-forward.js';

type Sender = ReturnType<typeof fluentLogger.createFluentSender<Record<string, unknown>>>;
// Its typings declare EventTime as an instance rather than the class it is.
const EventTime = fluentLogger.EventTime as unknown as new (epoch: number, nano: number) => object;
const quiet = { info: () => {}, error: () => {} };
const SEC = 1764064800;

let f: RunningFloki;
let certs: TestCertificates;
let port: { plain: number; key: number; users: number; tls: number; mtls: number };
let socketPath: string;
/** Cleanups registered while the suite runs; node:test's `after` only attaches at the top level. */
const cleanups: (() => unknown)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

before(async () => {
  certs = makeCertificates((fn) => cleanups.push(fn));
  const dir = mkdtempSync(join(tmpdir(), 'floki-npm-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  socketPath = join(dir, 'forward.sock');
  const tlsKeys = { tls: true, 'tls.crt_file': certs.serverCrt, 'tls.key_file': certs.serverKey };
  f = await startFloki(
    [
      forwardInput({ alias: 'plain', port: 0 }),
      forwardInput({ alias: 'key', port: 0, shared_key: 'interop-key', self_hostname: 'floki-server' }),
      forwardInput({ alias: 'users', port: 0, shared_key: 'interop-key', self_hostname: 'floki-server', 'security.users': ['alice wonder land'] }),
      forwardInput({ alias: 'tls', port: 0, ...tlsKeys, shared_key: 'tls-key', self_hostname: 'floki-server' }),
      forwardInput({ alias: 'mtls', port: 0, ...tlsKeys, 'tls.verify': true, 'tls.ca_file': certs.caCrt }),
      forwardInput({ alias: 'unix', unix_path: socketPath }),
    ].join('\n'),
  );
  cleanups.push(() => f.stop());
  port = { plain: f.port('plain'), key: f.port('key'), users: f.port('users'), tls: f.port('tls'), mtls: f.port('mtls') };
});

type SenderOptions = Parameters<typeof fluentLogger.createFluentSender>[1];

function sender(options: Record<string, unknown>, tag = 'npm'): Sender {
  // enableReconnect is an option the typings do not list; off, so no 10-minute timer outlives a test.
  const all = { host: '127.0.0.1', ackResponseTimeout: 10_000, flushInterval: 10, enableReconnect: false, internalLogger: quiet, ...options };
  const s = fluentLogger.createFluentSender<Record<string, unknown>>(tag, all as SenderOptions);
  cleanups.push(() => new Promise<void>((resolve) => s.end(null as unknown as string, null as unknown as Record<string, unknown>, () => resolve())));
  return s;
}

function emit(s: Sender, label: string, record: Record<string, unknown>, time: unknown): Promise<void> {
  return new Promise((resolve, reject) => s.emit(label, record, time as number, (err?: Error) => (err ? reject(err) : resolve())));
}

/** The first error the sender reports (handshake or TLS failures arrive this way, not in callbacks). */
function firstError(s: Sender): Promise<Error> {
  return new Promise((resolve) => (s as unknown as EventEmitter).once('error', (err: Error) => resolve(err)));
}

/**
 * Sends `n` records tagged `npm.<label>` with distinct nanosecond EventTimes, plus one with a Date
 * (whole seconds on the wire), and checks each arrives once in Loki with its tag and exact time.
 */
async function roundTrip(s: Sender, run: string, n = 12): Promise<void> {
  const sent: { id: string; ns: bigint }[] = [];
  const pending: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const id = `${run}-${i}`;
    const nsec = 100_000_000 + i * 7_654_321 + 1;
    sent.push({ id, ns: BigInt(SEC + i) * 1_000_000_000n + BigInt(nsec) });
    pending.push(emit(s, run, { id, run, message: `record ${i} of ${run}`, nested: { i, ok: true } }, new EventTime(SEC + i, nsec)));
  }
  const date = new Date((SEC + 100) * 1000 + 789);
  sent.push({ id: `${run}-date`, ns: BigInt(SEC + 100) * 1_000_000_000n });
  pending.push(emit(s, run, { id: `${run}-date`, run }, date));
  await Promise.all(pending);
  await waitFor(() => entriesBy(f.loki.entries, 'run', run).size === sent.length, `${sent.length} ${run} entries in Loki`, 15_000);
  const got = entriesBy(f.loki.entries, 'run', run);
  for (const e of sent) {
    const entry = got.get(e.id);
    assert.ok(entry, `${e.id} arrived`);
    assert.equal(entry.ts, e.ns, `${e.id} keeps its exact timestamp`);
    assert.equal(entry.labels.tag, `npm.${run}`);
  }
  assert.equal(f.loki.entries.filter((e) => (JSON.parse(e.line) as { run?: string }).run === run).length, sent.length, 'each record once');
}

for (const eventMode of ['Message', 'PackedForward', 'CompressedPackedForward']) {
  for (const requireAckResponse of [false, true]) {
    test(`${eventMode}${requireAckResponse ? ' with requireAckResponse' : ''}: every record, exact timestamps`, async () => {
      const acksBefore = await f.metric('floki_input_acks_total', { name: 'plain' });
      await roundTrip(sender({ port: port.plain, eventMode, requireAckResponse }), `${eventMode}-${requireAckResponse ? 'ack' : 'noack'}`);
      const acks = (await f.metric('floki_input_acks_total', { name: 'plain' })) - acksBefore;
      // The packed modes always send a chunk id (acked, and ignored by the client unless it asked).
      if (requireAckResponse) assert.ok(acks > 0, 'floki acked');
      else if (eventMode === 'Message') assert.equal(acks, 0, 'no chunk option, no ack');
    });
  }
}

test('shared key: the handshake passes and records flow with acks', async () => {
  await roundTrip(
    sender({ port: port.key, eventMode: 'PackedForward', requireAckResponse: true, security: { clientHostname: 'npm-client', sharedKey: 'interop-key' } }),
    'key-packed',
  );
  await roundTrip(sender({ port: port.key, eventMode: 'Message', security: { clientHostname: 'npm-client', sharedKey: 'interop-key' } }), 'key-message');
});

test('shared key and users: the right password passes', async () => {
  await roundTrip(
    sender({
      port: port.users,
      eventMode: 'CompressedPackedForward',
      requireAckResponse: true,
      security: { clientHostname: 'npm-client', sharedKey: 'interop-key', username: 'alice', password: 'wonder land' },
    }),
    'users-ok',
  );
});

test('a wrong shared key or password: the client is refused, nothing arrives, floki counts it', async () => {
  const before = await f.metric('floki_input_auth_failures_total');
  const cases = [
    { port: port.key, security: { clientHostname: 'npm-client', sharedKey: 'wrong-key' }, reason: /shared_key mismatch/ },
    { port: port.users, security: { clientHostname: 'npm-client', sharedKey: 'interop-key', username: 'alice', password: 'guess' }, reason: /username\/password mismatch/ },
  ];
  for (const c of cases) {
    const s = sender({ port: c.port, eventMode: 'Message', security: c.security });
    const failed = firstError(s);
    s.emit('refused', { id: 'refused', run: 'refused' });
    const err = await failed;
    assert.match(err.message, c.reason);
  }
  await waitFor(async () => (await f.metric('floki_input_auth_failures_total')) - before === 2, 'two auth failures counted');
  assert.equal(entriesBy(f.loki.entries, 'run', 'refused').size, 0);
});

/**
 * Over TLS the client asks for no acks: fluent-logger v3 starts listening for an ack only in its write
 * callback, which TLS runs a turn later, so under load floki's ack can arrive first and the client,
 * already reading, drops it and times out. The packed modes send a chunk id anyway, so floki's acks
 * over TLS are still counted here (and checked byte for byte in forward-transports.test.ts).
 */
test('TLS with a shared key: PackedForward and CompressedPackedForward', async () => {
  const acksBefore = await f.metric('floki_input_acks_total', { name: 'tls' });
  const tls = { tls: true, tlsOptions: { ca: readFileSync(certs.caCrt) }, security: { clientHostname: 'npm-client', sharedKey: 'tls-key' } };
  await roundTrip(sender({ port: port.tls, eventMode: 'PackedForward', ...tls }), 'tls-packed');
  await roundTrip(sender({ port: port.tls, eventMode: 'CompressedPackedForward', ...tls }), 'tls-gzip');
  assert.ok((await f.metric('floki_input_acks_total', { name: 'tls' })) > acksBefore, 'chunks acked over TLS');
});

test('mutual TLS: a client certificate from the CA passes; none is refused', async () => {
  const ca = readFileSync(certs.caCrt);
  const withCert = { ca, cert: readFileSync(certs.clientCrt), key: readFileSync(certs.clientKey) };
  await roundTrip(sender({ port: port.mtls, eventMode: 'PackedForward', tls: true, tlsOptions: withCert }), 'mtls');

  const before = await f.metric('floki_input_auth_failures_total', { name: 'mtls' });
  const s = sender({ port: port.mtls, eventMode: 'Message', tls: true, tlsOptions: { ca } });
  (s as unknown as EventEmitter).on('error', () => {});
  s.emit('mtls-refused', { id: 'x', run: 'mtls-refused' }, () => {});
  await waitFor(async () => (await f.metric('floki_input_auth_failures_total', { name: 'mtls' })) > before, 'the refused certificate counted');
  assert.equal(entriesBy(f.loki.entries, 'run', 'mtls-refused').size, 0);
});

test('unix socket', async () => {
  await roundTrip(sender({ path: socketPath, eventMode: 'PackedForward', requireAckResponse: true }), 'unix');
});

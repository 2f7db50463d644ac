/**
 * Tenants, structured metadata, line truncation, the JSON encoding, HTTPS and auth, each checked at a
 * decoding receiver.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { events, lokiHarness, T0 } from '../helpers/loki-harness.js';
import { ROOT } from '../helpers/floki-process.js';
import { waitFor } from '../helpers/wait.js';

const TLS_DIR = join(ROOT, 'test', 'fixtures', 'loki-tls');
const serverTls = { cert: readFileSync(join(TLS_DIR, 'server.crt')), key: readFileSync(join(TLS_DIR, 'server.key')) };

test('tenant_id_key: one request per tenant with its X-Scope-OrgID; entries without it get tenant_id', async (t) => {
  const h = await lokiHarness(t, { tenant_id: 'fallback', tenant_id_key: "$kubernetes['namespace_name']" });
  h.output.write(
    events(6, (i) => ({ record: { log: `l${i}`, kubernetes: i % 3 === 2 ? {} : { namespace_name: i % 3 === 0 ? 'team-a' : 'team-b' } } })),
  );
  await h.receiver.waitFor(6);
  assert.equal(h.receiver.requests, 3);
  for (const r of h.receiver.requestLog) assert.ok(r.received.every((e) => e.tenant === r.tenant));
  const byTenant = (tenant: string) => h.receiver.entries.filter((e) => e.tenant === tenant).map((e) => e.ts - T0);
  assert.deepEqual(byTenant('team-a'), [0n, 3n]);
  assert.deepEqual(byTenant('team-b'), [1n, 4n]);
  assert.deepEqual(byTenant('fallback'), [2n, 5n]);
});

test('structured_metadata: record accessors go next to the line, never into the labels', async (t) => {
  const h = await lokiHarness(t, {
    labels: ['job=floki', "kind=$involvedObject['kind']"],
    structured_metadata: ["object=$involvedObject['name']", "$involvedObject['uid']", 'source=event-exporter'],
    structured_metadata_map_keys: ['$annotations'],
  });
  h.output.write([
    {
      tag: 'ev',
      time: T0,
      record: { message: 'Back-off', involvedObject: { kind: 'Pod', name: 'web-1', uid: 'f1e2d3' }, annotations: { 'team.io/owner': 'payments', count: 3 } },
    },
    { tag: 'ev', time: T0 + 1n, record: { message: 'no object' } },
  ]);
  await h.receiver.waitFor(2);
  const [a, b] = h.receiver.entries;
  assert.deepEqual(a!.labels, { job: 'floki', kind: 'Pod' });
  assert.deepEqual(a!.sm, { object: 'web-1', involvedObject_uid: 'f1e2d3', source: 'event-exporter', team_io_owner: 'payments', count: '3' });
  // As Fluent Bit: what went to labels and structured metadata is not repeated in the line.
  assert.equal(a!.line, '{"message":"Back-off","involvedObject":{}}');
  assert.deepEqual(b!.labels, { job: 'floki' });
  assert.deepEqual(b!.sm, { source: 'event-exporter' });
});

test('max_line_size: longer lines are cut on a character boundary before sending, and counted', async (t) => {
  const h = await lokiHarness(t, { max_line_size: 10, drop_single_key: 'raw' });
  h.output.write([
    { tag: 't', time: T0, record: { log: 'short' } },
    { tag: 't', time: T0 + 1n, record: { log: 'aaaaaaaaaaaaaaaa' } },
    { tag: 't', time: T0 + 2n, record: { log: 'aaaaaaaaé€' } }, // 'é' would straddle byte 10
  ]);
  await h.receiver.waitFor(3);
  assert.deepEqual(h.receiver.entries.map((e) => e.line), ['short', 'aaaaaaaaaa', 'aaaaaaaaé']);
  assert.equal(await h.value('floki_output_truncated_records_total'), 2);
});

test('compress json_gzip: Loki JSON, gzipped, with exact nanosecond timestamps and structured metadata', async (t) => {
  const h = await lokiHarness(t, { compress: 'json_gzip', labels: ['job=floki', '$app'], structured_metadata: ['$uid'] });
  h.output.write(events(3, (i) => ({ record: { app: `a"${i % 2}`, uid: `u${i}`, log: `ü ${i}` } })));
  await h.receiver.waitFor(3);
  const r = h.receiver.requestLog[0]!;
  assert.equal(r.encoding, 'json');
  assert.equal(r.headers['content-encoding'], 'gzip');
  assert.deepEqual(
    h.receiver.entries.map((e) => [e.labels, e.ts, JSON.parse(e.line).log, e.sm]).sort((x, y) => (x[1]! < y[1]! ? -1 : 1)),
    [
      [{ app: 'a"0', job: 'floki' }, T0, 'ü 0', { uid: 'u0' }],
      [{ app: 'a"1', job: 'floki' }, T0 + 1n, 'ü 1', { uid: 'u1' }],
      [{ app: 'a"0', job: 'floki' }, T0 + 2n, 'ü 2', { uid: 'u2' }],
    ],
  );
});

test('HTTPS: verified against tls.ca_file; basic auth and extra headers sent', async (t) => {
  const h = await lokiHarness(
    t,
    { tls: true, 'tls.ca_file': join(TLS_DIR, 'ca.crt'), http_user: 'floki', http_passwd: 'pw', header: ['X-Team payments'] },
    { receiver: { tls: serverTls } },
  );
  h.output.write(events(2));
  await h.receiver.waitFor(2);
  const headers = h.receiver.requestLog[0]!.headers;
  assert.equal(headers['authorization'], `Basic ${Buffer.from('floki:pw').toString('base64')}`);
  assert.equal(headers['x-team'], 'payments');
});

test('HTTPS: a certificate the system does not trust fails (and is retried) unless tls.verify is off', async (t) => {
  const strict = await lokiHarness(t, { tls: true, retry_limit: 'no_retries' }, { receiver: { tls: serverTls } });
  strict.output.write(events(1));
  await waitFor(async () => (await strict.value('floki_output_dropped_records_total', { reason: 'retry_limit' })) === 1, 'TLS failure given up', 3000);
  assert.equal(strict.receiver.requests, 0);

  const lax = await lokiHarness(t, { tls: true, 'tls.verify': false }, { receiver: { tls: serverTls } });
  lax.output.write(events(1));
  await lax.receiver.waitFor(1);
});

test('gRPC over TLS, verified against tls.ca_file', async (t) => {
  const h = await lokiHarness(t, { tls: true, 'tls.ca_file': join(TLS_DIR, 'ca.crt'), tenant_id: 'team-a' }, { receiver: { grpc: true, tls: serverTls } });
  h.output.write(events(2));
  await h.receiver.waitFor(2);
  assert.equal(h.receiver.requestLog[0]!.tenant, 'team-a');
});

test('TLS keys from Fluent Bit: tls.ca_path, tls.min_version/max_version, tls.verify_hostname (HTTPS and gRPC)', async (t) => {
  const caDir = mkdtempSync(join(tmpdir(), 'floki-ca-'));
  t.after(() => rmSync(caDir, { recursive: true, force: true }));
  copyFileSync(join(TLS_DIR, 'ca.crt'), join(caDir, 'ca.pem'));
  writeFileSync(join(caDir, 'notes.txt'), 'not a certificate');
  for (const grpc of [false, true]) {
    const viaPath = await lokiHarness(t, { tls: true, 'tls.ca_path': caDir, 'tls.min_version': 'tlsv1.2', 'tls.max_version': 'TLSv1.3' }, { receiver: { grpc, tls: serverTls } });
    viaPath.output.write(events(1));
    await viaPath.receiver.waitFor(1);

    // The certificate names localhost, not the name asked for: refused unless the name is not checked.
    const wrongName = { tls: true, 'tls.ca_file': join(TLS_DIR, 'ca.crt'), 'tls.vhost': 'elsewhere.example', retry_limit: 'no_retries' };
    const strict = await lokiHarness(t, wrongName, { receiver: { grpc, tls: serverTls } });
    strict.output.write(events(1));
    await waitFor(async () => (await strict.value('floki_output_dropped_records_total', { reason: 'retry_limit' })) === 1, 'name mismatch refused', 5000);
    assert.equal(strict.receiver.entries.length, 0);
    const lax = await lokiHarness(t, { ...wrongName, 'tls.verify_hostname': false }, { receiver: { grpc, tls: serverTls } });
    lax.output.write(events(1));
    await lax.receiver.waitFor(1);
  }
});

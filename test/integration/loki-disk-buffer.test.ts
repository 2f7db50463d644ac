/**
 * The Loki output with the disk buffer (`storage.type filesystem`): writes resolve once on disk and
 * settle then; segment files go once Loki accepted their entries; what is not delivered at stop stays
 * for the next start and goes first; the disk limit pauses the inputs or drops the oldest segment;
 * retries have no limit.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Delivery } from '../../src/core/delivery.js';
import { parseConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/config/errors.js';
import { PLUGINS } from '../../src/plugins.js';
import { events, lokiHarness, T0 } from '../helpers/loki-harness.js';
import { waitFor } from '../helpers/wait.js';

function storageDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'floki-loki-disk-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const segmentFiles = (storage: string, name = 'loki.0') => readdirSync(join(storage, name)).filter((f) => f.endsWith('.avro'));
const segmentBytes = (storage: string, name = 'loki.0') => segmentFiles(storage, name).reduce((n, f) => n + statSync(join(storage, name, f)).size, 0);
const DISK = { 'storage.type': 'filesystem' };

test('write() resolves once the entries are on disk, and settles them then, while Loki has not answered yet', async (t) => {
  const storage = storageDir(t);
  const h = await lokiHarness(t, DISK, { storagePath: storage });
  h.receiver.respond('stall');
  let settled = 0;
  const delivery = new Delivery(() => settled++);
  delivery.add(4);
  await h.output.write(events(4), delivery);
  delivery.routed();
  assert.equal(settled, 1, 'persisted entries are settled for their input');
  assert.equal(segmentFiles(storage).length, 1);
  await h.receiver.waitForRequests(1);
  assert.equal(h.receiver.entries.length, 0);
  h.receiver.release();
  await h.receiver.waitFor(4);
  assert.deepEqual(h.receiver.entries.map((e) => e.ts), events(4).map((e) => e.time));
});

test('a segment file is deleted once Loki accepted every entry in it', async (t) => {
  const storage = storageDir(t);
  const h = await lokiHarness(t, { ...DISK, 'storage.total_limit_size': 64 * 1024 }, { storagePath: storage });
  // 64K limit: 32K segments; these fill several.
  for (let i = 0; i < 20; i++) await h.output.write(events(50, (j) => ({ time: T0 + BigInt(i * 50 + j), record: { log: `${i}/${j} ${'x'.repeat(40)}` } })));
  await h.receiver.waitFor(1000, 5000);
  await waitFor(async () => (await h.value('floki_output_proc_records_total')) === 1000, 'all counted', 3000);
  await waitFor(() => segmentFiles(storage).length <= 1, 'delivered segments deleted', 3000);
  // A stop with everything delivered leaves nothing to send again.
  await h.output.stop(1000);
  assert.deepEqual(segmentFiles(storage), []);
});

test('stopped while Loki is down: nothing is dropped, the entries stay on disk and go first on the next start', async (t) => {
  const storage = storageDir(t);
  const first = await lokiHarness(t, DISK, { storagePath: storage, capture: true });
  await first.receiver.down();
  await first.output.write(events(30));
  assert.equal(await first.value('floki_output_storage_bytes'), segmentBytes(storage));
  await waitFor(async () => (await first.value('floki_output_oldest_entry_age_seconds')) >= 0.5, 'the age of the oldest entry', 3000);
  await first.output.stop(100);
  assert.equal(await first.value('floki_output_dropped_records_total'), 0);
  assert.ok(first.logLines.some((l) => l.includes('30 entries not delivered') && l.includes('stay on disk')));
  assert.equal(segmentFiles(storage).length, 1);

  const second = await lokiHarness(t, DISK, { storagePath: storage });
  await second.output.write(events(5, (i) => ({ time: T0 + 1000n + BigInt(i) })));
  await second.receiver.waitFor(35);
  const got = second.receiver.entries.map((e) => e.ts - T0);
  assert.deepEqual(got, [...Array.from({ length: 30 }, (_, i) => BigInt(i)), 1000n, 1001n, 1002n, 1003n, 1004n], 'replayed first, exact timestamps');
});

test('no retry limit with the disk buffer: a batch is retried until Loki takes it', async (t) => {
  const storage = storageDir(t);
  const h = await lokiHarness(t, { ...DISK, retry_limit: 'no_retries' }, { storagePath: storage });
  h.receiver.respond(503, 503, 500, 'reset', 429);
  await h.output.write(events(3));
  await h.receiver.waitFor(3, 5000);
  assert.equal(await h.value('floki_output_retries_total'), 5);
  assert.equal(await h.value('floki_output_dropped_records_total'), 0);
});

test('storage.total_limit_size with full_action pause: inputs paused over the limit, resumed as segments are delivered', async (t) => {
  const storage = storageDir(t);
  const limit = 64 * 1024;
  const h = await lokiHarness(t, { ...DISK, 'storage.total_limit_size': limit }, { storagePath: storage });
  await h.receiver.down();
  const line = 'y'.repeat(200);
  let n = 0;
  while (h.fullCalls.length === 0 && n < 2000) {
    await h.output.write(events(20, (j) => ({ time: T0 + BigInt(n + j), record: { log: `${n + j} ${line}` } })));
    n += 20;
  }
  assert.deepEqual(h.fullCalls, [true], 'paused once the disk buffer passed its limit');
  assert.ok(await h.value('floki_output_storage_bytes') > limit);
  await h.receiver.up();
  await h.receiver.waitFor(n, 10_000);
  await waitFor(() => h.fullCalls.length === 2, 'resumed', 5000);
  assert.deepEqual(h.fullCalls, [true, false]);
  assert.equal(new Set(h.receiver.entries.map((e) => e.ts)).size, n, 'every entry delivered');
});

test('storage.full_action drop_oldest: never pauses; the oldest segments go and their entries are counted', async (t) => {
  const storage = storageDir(t);
  const limit = 64 * 1024;
  const h = await lokiHarness(t, { ...DISK, 'storage.total_limit_size': limit, 'storage.full_action': 'drop_oldest', mem_buf_limit: 16 * 1024 }, { storagePath: storage });
  await h.receiver.down();
  const line = 'z'.repeat(200);
  for (let n = 0; n < 1000; n += 20) await h.output.write(events(20, (j) => ({ time: T0 + BigInt(n + j), record: { log: `${n + j} ${line}` } })));
  assert.deepEqual(h.fullCalls, []);
  assert.ok((await h.value('floki_output_storage_bytes')) <= limit + 32 * 1024);
  const dropped = await h.value('floki_output_dropped_records_total', { reason: 'storage_full' });
  assert.ok(dropped > 0);
  await h.receiver.up();
  await waitFor(async () => (await h.value('floki_output_proc_records_total')) + dropped >= 1000, 'the rest delivered', 10_000);
  // The newest entries are the ones kept.
  assert.ok(h.receiver.entries.some((e) => e.ts === T0 + 999n));
});

test('storage.type filesystem needs service storage.path; an input asking for it puts the output on disk', () => {
  const text = (service: string, input: string, output: string) =>
    `${service}pipeline:\n  inputs:\n    - name: dummy\n${input}  outputs:\n    - name: loki\n      match: '*'\n${output}`;
  assert.throws(
    () => parseConfig(text('', '', '      storage.type: filesystem\n'), 'floki.yaml', PLUGINS, {}),
    (err: unknown) => err instanceof ConfigError && /outputs\[0\] \(loki\): storage.type filesystem needs 'storage.path' in service/.test(err.message),
  );
  assert.throws(
    () => parseConfig(text('', '      storage.type: filesystem\n', ''), 'floki.yaml', PLUGINS, {}),
    (err: unknown) => err instanceof ConfigError && /inputs\[0\] \(dummy\): storage.type filesystem needs/.test(err.message),
  );
  assert.throws(() => parseConfig(text('', '      storage.type: disk\n', ''), 'floki.yaml', PLUGINS, {}), /expected memory or filesystem, got 'disk'/);
  const config = parseConfig(text('service:\n  storage.path: /tmp/x\n', '      storage.type: filesystem\n', ''), 'floki.yaml', PLUGINS, {});
  assert.equal(config.inputs[0]!.storageType, 'filesystem');
});

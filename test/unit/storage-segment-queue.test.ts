/**
 * The disk queue on its own: durable appends, order, exact timestamps, deletion once settled,
 * recovery after a stop, torn and damaged blocks, the size limit, and the folder lock. The segment
 * files are read back with avsc's own container decoder too: they are plain Avro object container files.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import avro from 'avsc';
import pino from 'pino';
import { LOKI_ENTRY, type StoredEntry } from '../../src/outputs/loki/stored-entry.js';
import { SegmentQueue, StorageLockedError, type ReadBlock, type SegmentQueueOptions } from '../../src/storage/segment-queue.js';
import { waitFor } from '../helpers/wait.js';

const T0 = 1_764_064_800_123_456_789n;

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'floki-storage-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

interface Opened {
  queue: SegmentQueue<StoredEntry>;
  drops: Record<string, number>;
  logs: string[];
}

async function openQueue(t: TestContext, dir: string, options: Partial<SegmentQueueOptions<StoredEntry>> = {}): Promise<Opened> {
  const drops: Record<string, number> = {};
  const logs: string[] = [];
  const queue = await SegmentQueue.open({
    dir,
    entries: LOKI_ENTRY,
    segmentBytes: 1 << 20,
    limitBytes: 1 << 30,
    fullAction: 'pause',
    cacheBytes: 1 << 20,
    log: pino({ level: 'info' }, new Writable({ write: (c: Buffer, _e, done) => (logs.push(c.toString()), done()) })),
    onDrop: (reason, n) => (drops[reason] = (drops[reason] ?? 0) + n),
    onChange: () => {},
    ...options,
  });
  t.after(() => queue.close());
  return { queue, drops, logs };
}

function entries(n: number, from = 0, extra: Partial<StoredEntry> = {}): StoredEntry[] {
  return Array.from({ length: n }, (_, i) => ({
    tenant: null,
    labels: '{job="floki"}',
    timestamp: T0 + BigInt(from + i),
    line: `line ${from + i} ünïcødé`,
    structured_metadata: {},
    ...extra,
  }));
}

async function readAll(queue: SegmentQueue<StoredEntry>, settle = false): Promise<StoredEntry[]> {
  const out: StoredEntry[] = [];
  for (let block: ReadBlock<StoredEntry> | undefined; (block = await queue.readBlock()) !== undefined; ) {
    out.push(...block.entries);
    if (settle) block.segment.settle(block.entries.length);
  }
  return out;
}

const segments = (dir: string) => readdirSync(dir).filter((n) => n.endsWith('.avro')).sort();

test('appends resolve once on disk; blocks come back in order with exact timestamps, tenant and metadata', async (t) => {
  const dir = tempDir(t);
  const { queue } = await openQueue(t, dir);
  await queue.append(entries(3));
  await queue.append(entries(2, 3, { tenant: 'team-a', structured_metadata: { uid: 'e3b0', name: 'web-1' } }));
  assert.equal(segments(dir).length, 1);
  assert.ok(queue.bytes > 0 && queue.bytes === statSync(join(dir, segments(dir)[0]!)).size);
  const got = await readAll(queue);
  assert.deepEqual(
    got.map((e) => [e.timestamp, e.line, e.tenant, e.structured_metadata]),
    [
      [T0, 'line 0 ünïcødé', null, {}],
      [T0 + 1n, 'line 1 ünïcødé', null, {}],
      [T0 + 2n, 'line 2 ünïcødé', null, {}],
      [T0 + 3n, 'line 3 ünïcødé', 'team-a', { uid: 'e3b0', name: 'web-1' }],
      [T0 + 4n, 'line 4 ünïcødé', 'team-a', { uid: 'e3b0', name: 'web-1' }],
    ],
  );
  assert.equal(queue.hasUnread(), false);
});

test("segment files are Avro object container files: avsc's own decoder reads every entry", async (t) => {
  const dir = tempDir(t);
  const { queue } = await openQueue(t, dir);
  await queue.append(entries(4));
  await queue.append(entries(4, 4));
  await queue.close();
  // avsc reads longs as doubles unless told otherwise: give its decoder a bigint long of our own here.
  const long = avro.types.LongType.__with({
    fromBuffer: (b: Buffer) => b.readBigInt64LE(),
    toBuffer: (n: bigint) => Buffer.from(new BigInt64Array([n]).buffer),
    fromJSON: BigInt,
    toJSON: String,
    isValid: (n: unknown) => typeof n === 'bigint',
    compare: () => 0,
  });
  const records: { timestamp: bigint; line: string }[] = [];
  await new Promise<void>((resolve, reject) => {
    avro
      .createFileDecoder(join(dir, segments(dir)[0]!), { parseHook: (schema: avro.Schema) => avro.Type.forSchema(schema, { registry: { long } }) })
      .on('data', (r: { timestamp: bigint; line: string }) => records.push(r))
      .on('error', reject)
      .on('end', resolve);
  });
  assert.deepEqual(records.map((r) => [r.timestamp, r.line]), entries(8).map((e) => [e.timestamp, e.line]));
});

test('appends made together share one block and one fsync', async (t) => {
  const dir = tempDir(t);
  const { queue } = await openQueue(t, dir, { cacheBytes: 0 });
  await Promise.all([queue.append(entries(2)), queue.append(entries(2, 2)), queue.append(entries(2, 4))]);
  const block = await queue.readBlock();
  assert.equal(block!.entries.length, 6, 'one block of six, read back from the file');
  assert.equal(await queue.readBlock(), undefined);
});

test('a sealed segment is deleted once every entry in it is settled; files roll at segmentBytes', async (t) => {
  const dir = tempDir(t);
  const { queue } = await openQueue(t, dir, { segmentBytes: 600 });
  for (let i = 0; i < 6; i++) await queue.append(entries(10, i * 10));
  assert.ok(segments(dir).length >= 3, `${segments(dir).length} segments`);
  const before = queue.bytes;
  const got = await readAll(queue, true);
  assert.equal(got.length, 60);
  // Only the active segment (not yet sealed) may remain.
  await waitFor(() => segments(dir).length <= 1, 'delivered segments deleted', 2000);
  assert.ok(queue.bytes < before);
  assert.equal(queue.heldEntries, 0);
});

test('after a stop, every entry not settled is read again first, then new ones', async (t) => {
  const dir = tempDir(t);
  const first = await openQueue(t, dir, { segmentBytes: 600 });
  for (let i = 0; i < 4; i++) await first.queue.append(entries(10, i * 10));
  // Settle the first block only: the rest must survive the restart.
  const b = await first.queue.readBlock();
  b!.segment.settle(b!.entries.length);
  await first.queue.close();

  const second = await openQueue(t, dir, { segmentBytes: 600 });
  await second.queue.append(entries(5, 1000));
  const got = await readAll(second.queue);
  const ts = got.map((e) => e.timestamp - T0);
  // Entries not settled come back, in order, before new ones; settled ones may too (a segment is deleted whole).
  assert.deepEqual(
    ts.filter((x) => x >= 10n),
    [...Array.from({ length: 30 }, (_, i) => BigInt(i + 10)), 1000n, 1001n, 1002n, 1003n, 1004n],
  );
  assert.deepEqual(
    ts.filter((x) => x < 10n),
    Array.from({ length: ts.filter((x) => x < 10n).length }, (_, i) => BigInt(i)),
  );
  assert.match(second.logs.join(''), /entries from a previous run will be sent first/);
});

test('a torn last block is dropped alone: every whole block before it is kept, the file cut back', async (t) => {
  const dir = tempDir(t);
  const first = await openQueue(t, dir);
  for (let i = 0; i < 3; i++) await first.queue.append(entries(5, i * 5));
  await first.queue.close();
  const file = join(dir, segments(dir)[0]!);
  const size = statSync(file).size;
  truncateSync(file, size - 20); // a power cut in the middle of the last block's write

  const second = await openQueue(t, dir);
  const got = await readAll(second.queue);
  assert.deepEqual(got.map((e) => e.timestamp - T0), Array.from({ length: 10 }, (_, i) => BigInt(i)));
  assert.match(second.logs.join(''), /dropped a torn last block/);
  assert.ok(statSync(file).size < size - 20, 'the torn tail was cut off');
  // New entries go to a new file after the recovered one.
  await second.queue.append(entries(1, 99));
  assert.equal(segments(dir).length, 2);
});

test('a damaged block in the middle is skipped by its sync marker; blocks after it are kept', async (t) => {
  const dir = tempDir(t);
  const first = await openQueue(t, dir);
  for (let i = 0; i < 3; i++) await first.queue.append(entries(5, i * 5));
  await first.queue.close();
  const file = join(dir, segments(dir)[0]!);
  const bytes = readFileSync(file);
  const sync = bytes.subarray(bytes.length - 16);
  // The first block's trailing sync marker (the header ends with the first occurrence): damage it.
  const firstSync = bytes.indexOf(sync, bytes.indexOf(sync) + 16);
  bytes[firstSync + 3] ^= 0xff;
  writeFileSync(file, bytes);

  const second = await openQueue(t, dir);
  const got = await readAll(second.queue);
  assert.deepEqual(got.map((e) => e.timestamp - T0), Array.from({ length: 10 }, (_, i) => BigInt(i + 5)));
  assert.equal(second.drops['corrupt'], 5);
  assert.match(second.logs.join(''), /skipped a damaged block/);
});

test('drop_oldest deletes the oldest segments past the limit and counts what was not read', async (t) => {
  const dir = tempDir(t);
  const { queue, drops } = await openQueue(t, dir, { segmentBytes: 700, limitBytes: 2000, fullAction: 'drop_oldest' });
  for (let i = 0; i < 20; i++) await queue.append(entries(10, i * 10));
  assert.ok(queue.bytes <= 2000 + 700, `${queue.bytes} bytes on disk`);
  assert.ok((drops['storage_full'] ?? 0) > 0);
  const got = await readAll(queue);
  assert.equal(got.length + drops['storage_full']!, 200, 'every entry is either kept or counted as dropped');
  // What is kept is the newest, in order.
  assert.equal(got[got.length - 1]!.timestamp, T0 + 199n);
});

test('the folder lock: refused while another live process holds it, taken over from a dead one', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'LOCK'), String(process.ppid));
  await assert.rejects(openQueue(t, dir), StorageLockedError);
  writeFileSync(join(dir, 'LOCK'), '2147483646');
  const { queue } = await openQueue(t, dir);
  await queue.append(entries(1));
  assert.equal(readFileSync(join(dir, 'LOCK'), 'utf8'), String(process.pid));
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Batcher, ENTRY_OVERHEAD_BYTES, metadataBytes, PAIR_OVERHEAD_BYTES, type ClosedBatch } from '../../src/outputs/loki/batcher.js';

function collect(batchSizeBytes: number, batchWaitMs = 60_000): { batcher: Batcher; closed: ClosedBatch[] } {
  const closed: ClosedBatch[] = [];
  const batcher = new Batcher({ batchSizeBytes, batchWaitMs, onClose: (b) => closed.push(b) });
  return { batcher, closed };
}

test('groups entries by stream and accounts line bytes plus overhead', () => {
  const { batcher, closed } = collect(1 << 20);
  batcher.add(undefined, '{a="1"}', { ts: 1n, line: 'x' }, 1);
  batcher.add(undefined, '{a="2"}', { ts: 2n, line: 'yy' }, 2);
  batcher.add(undefined, '{a="1"}', { ts: 3n, line: 'z' }, 1);
  assert.equal(batcher.openEntries, 3);
  assert.equal(batcher.openBytes, 4 + 3 * ENTRY_OVERHEAD_BYTES + 2 * '{a="1"}'.length);
  batcher.close();
  assert.equal(closed.length, 1);
  assert.deepEqual([...closed[0]!.streams.keys()], ['{a="1"}', '{a="2"}']);
  assert.deepEqual(closed[0]!.streams.get('{a="1"}')!.map((e) => e.line), ['x', 'z']);
  assert.equal(batcher.openBytes, 0);
});

test('closes before an entry that would overflow batch_size, and at batch_size', () => {
  const per = 100 + ENTRY_OVERHEAD_BYTES;
  const { batcher, closed } = collect(per * 3 + 7);
  const line = 'x'.repeat(100);
  for (let i = 0; i < 7; i++) batcher.add(undefined, '{}', { ts: BigInt(i), line: line }, 100);
  // The first entry of each batch also pays for the label string ('{}').
  assert.deepEqual(closed.map((b) => b.entries), [3, 3]);
  assert.equal(batcher.openEntries, 1);
  batcher.dispose();
});

test('an entry larger than batch_size goes alone', () => {
  const { batcher, closed } = collect(50);
  batcher.add(undefined, '{}', { ts: 1n, line: 'small' }, 5);
  batcher.add(undefined, '{}', { ts: 2n, line: 'y'.repeat(500) }, 500);
  assert.deepEqual(closed.map((b) => b.entries), [1, 1]);
  assert.equal(batcher.openEntries, 0);
});

test('closes after batch_wait from the first entry', async () => {
  const closed: ClosedBatch[] = [];
  const whenClosed = new Promise<void>((resolve) => {
    const batcher = new Batcher({
      batchSizeBytes: 1 << 20,
      batchWaitMs: 20,
      onClose: (b) => {
        closed.push(b);
        resolve();
      },
    });
    batcher.add(undefined, '{}', { ts: 1n, line: 'a' }, 1);
    batcher.add(undefined, '{}', { ts: 2n, line: 'b' }, 1);
  });
  await whenClosed;
  assert.equal(closed.length, 1);
  assert.equal(closed[0]!.entries, 2);
});

test('batches never mix tenants; each tenant closes on its own', () => {
  const { batcher, closed } = collect(1 << 20);
  const a = { settle: () => {} };
  batcher.add('team-a', '{a="1"}', { ts: 1n, line: 'x' }, 1, a);
  batcher.add('team-b', '{a="1"}', { ts: 2n, line: 'y' }, 1);
  batcher.add('team-a', '{a="1"}', { ts: 3n, line: 'z' }, 1, a);
  batcher.add(undefined, '{a="1"}', { ts: 4n, line: 'w' }, 1);
  assert.equal(batcher.openEntries, 4);
  batcher.close();
  assert.deepEqual(
    closed.map((b) => [b.tenant, b.entries, b.streams.get('{a="1"}')!.map((e) => e.line).join('')]),
    [
      ['team-a', 2, 'xz'],
      ['team-b', 1, 'y'],
      [undefined, 1, 'w'],
    ],
  );
  assert.deepEqual(closed[0]!.runs, [{ target: a, count: 2 }]);
  assert.equal(batcher.openBytes, 0);
});

test('with shards, a stream always goes to the same open batch, and streams spread over them', () => {
  const closed: ClosedBatch[] = [];
  const batcher = new Batcher({ batchSizeBytes: 1 << 20, batchWaitMs: 60_000, shards: 4, onClose: (b) => closed.push(b) });
  for (let round = 0; round < 3; round++) for (let s = 0; s < 40; s++) batcher.add(undefined, `{s="${s}"}`, { ts: BigInt(round), line: 'x' }, 1);
  batcher.close();
  assert.equal(closed.length, 4, 'one batch per shard');
  const owner = new Map<string, number>();
  closed.forEach((b, i) => {
    for (const [labels, entries] of b.streams) {
      assert.equal(owner.has(labels), false, `${labels} in one batch only`);
      owner.set(labels, i);
      assert.deepEqual(entries.map((e) => e.ts), [0n, 1n, 2n]);
    }
  });
  assert.equal(owner.size, 40);
  assert.ok(closed.every((b) => b.streams.size >= 4), 'spread over the shards');
});

test('structured metadata counts towards batch_size', () => {
  assert.equal(metadataBytes(undefined), 0);
  assert.equal(metadataBytes({ uid: 'abc' }), 3 + 3 + PAIR_OVERHEAD_BYTES);
});

test('close on an empty batch does nothing', () => {
  const { batcher, closed } = collect(10);
  batcher.close();
  assert.equal(closed.length, 0);
});

/**
 * The watch line splitter with a line limit (the kubernetes filter's buffer_size): lines over the limit
 * are skipped whole and counted, whatever the chunking, and never held in memory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WatchLineSplitter } from '../../src/kube/watch-lines.js';

/** A small deterministic generator (mulberry32), so a failure repeats. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('lines over the limit are skipped and counted, whatever the chunks; the others come whole', () => {
  const max = 40;
  for (let seed = 1; seed <= 300; seed++) {
    const rnd = random(seed);
    const lines = Array.from({ length: 1 + Math.floor(rnd() * 12) }, (_, i) => `{"n":${i},"s":"${'é'.repeat(Math.floor(rnd() * 30))}"}`);
    const bytes = Buffer.from(lines.join('\n') + '\n', 'utf8');
    const splitter = new WatchLineSplitter(max);
    const got: string[] = [];
    let at = 0;
    while (at < bytes.length) {
      const size = 1 + Math.floor(rnd() * 50);
      got.push(...splitter.push(bytes.subarray(at, at + size)));
      at += size;
    }
    assert.equal(splitter.end(), undefined);
    const kept = lines.filter((l) => Buffer.byteLength(l) <= max);
    assert.deepEqual(got, kept, `seed ${seed}`);
    assert.equal(splitter.skipped, lines.length - kept.length, `seed ${seed}`);
  }
});

test('a line over the limit is not kept while it arrives', () => {
  const splitter = new WatchLineSplitter(10);
  assert.deepEqual(splitter.push(Buffer.from('{"a":1}\n{"big":"')), ['{"a":1}']);
  for (let i = 0; i < 1000; i++) assert.deepEqual(splitter.push(Buffer.from('xxxxxxxxxx')), []);
  assert.equal((splitter as unknown as { pending: Buffer | undefined }).pending, undefined, 'nothing of the long line is held');
  assert.deepEqual(splitter.push(Buffer.from('"}\n{"b":2}\n')), ['{"b":2}']);
  assert.equal(splitter.skipped, 1);
});

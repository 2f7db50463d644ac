/**
 * The multiline joiner's streams are bounded in bytes (their keys, which may be tags as long as a
 * frame, and the text their entries hold), not only by idle time: past streamBytesLimit the streams
 * used least recently are flushed (their unfinished entries come out, nothing lost) and forgotten.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_STREAM_BYTES_LIMIT, MultilineJoiner, type MultilineEntry } from '../../src/parsers/multiline/multiline-joiner.js';
import { ParserRegistry } from '../../src/parsers/registry.js';
import { multilineFilter } from '../../src/filters/multiline/index.js';
import { startFilters } from './filter-harness.js';

const java = () => new ParserRegistry().multilineParser('java')!;
const key = (i: number, length: number) => `tag.${i}.`.padEnd(length, 'x');

describe('multiline joiner: streams bounded in bytes', () => {
  it('thousands of long keys in one flush window: the bytes stay under the limit, the oldest streams are evicted, every line comes out once', () => {
    const limit = 256 * 1024;
    const j = new MultilineJoiner<number>([java()], { keyContent: 'log', streamBytesLimit: limit });
    assert.equal(new MultilineJoiner<number>([java()]).streamBytesLimit, DEFAULT_STREAM_BYTES_LIMIT);
    const out: MultilineEntry<number>[] = [];
    // The first stream holds an unfinished trace: evicted first (used least recently), it comes out whole.
    j.appendRecord('first', { log: 'java.lang.IllegalStateException: boom' }, 1n, 0, 1000, out);
    j.appendRecord('first', { log: '\tat a.B.c(B.java:1)' }, 2n, 1, 1000, out);
    let peak = 0;
    const n = 5000;
    for (let i = 0; i < n; i++) {
      j.appendRecord(key(i, 2048), { log: `java.lang.RuntimeException: ${i}` }, 3n, 2 + i, 1001 + i, out);
      peak = Math.max(peak, j.streamBytes);
    }
    assert.ok(peak <= limit + 2 * 2048 + 1024, `at most one stream over the limit (peak ${peak})`);
    assert.ok(j.evictedStreams > 4000, `the oldest streams were evicted (${j.evictedStreams})`);
    const first = out.find((e) => e.key === 'first');
    assert.ok(first, 'the first stream was flushed when evicted');
    assert.equal(first.record.log, 'java.lang.IllegalStateException: boom\n\tat a.B.c(B.java:1)');
    assert.deepEqual(first.tokens, [0, 1]);
    j.flushAll(out);
    const tokens = out.flatMap((e) => e.tokens).sort((a, b) => a - b);
    assert.deepEqual(tokens, Array.from({ length: n + 2 }, (_, i) => i), 'every line came out exactly once');
    assert.equal(j.pendingBytes, 0);
  });

  it('held text counts: streams whose entries hold much text are evicted too; the count returns to the keys once flushed, to 0 once forgotten', () => {
    const limit = 64 * 1024;
    const j = new MultilineJoiner<number>([java()], { keyContent: 'log', streamBytesLimit: limit });
    const out: MultilineEntry<number>[] = [];
    const frame = `\tat ${'f'.repeat(1000)}`;
    let token = 0;
    for (let s = 0; s < 4; s++) {
      j.appendRecord(`k${s}`, { log: 'java.lang.Error: e' }, 1n, token++, 1000 + s, out);
      for (let f = 0; f < 20; f++) j.appendRecord(`k${s}`, { log: frame }, 1n, token++, 1000 + s, out);
    }
    assert.ok(j.streamBytes <= limit + frame.length + 1, `held within the limit (${j.streamBytes})`);
    assert.ok(j.evictedStreams >= 1);
    j.flushAll(out);
    assert.equal(out.flatMap((e) => e.tokens).length, token);
    assert.ok(j.streamBytes > 0 && j.streamBytes < 4 * 300, `the streams' keys only (${j.streamBytes})`);
    j.flushDue(1_000_000_000, out);
    assert.equal(j.streamBytes, 0, 'idle streams forgotten');
  });
});

describe('multiline filter: stream bytes', () => {
  it('records under thousands of long tags: the oldest streams are flushed and forgotten, counted; nothing lost', async (t) => {
    const p = await startFilters([{ name: 'multiline', match: '*', 'multiline.key_content': 'log', 'multiline.parser': 'java', emitter_mem_buf_limit: '64k' }]);
    t.after(() => p.stop());
    assert.ok(multilineFilter);
    // 16 MiB + 64 KiB of keys at 2 bytes a character: about 4,200 tags of 2,000 characters.
    const n = 5000;
    for (let i = 0; i < n; i += 500) {
      await Promise.all(Array.from({ length: 500 }, (_, k) => p.emit(key(i + k, 2000), [{ log: `java.lang.RuntimeException: ${i + k}` }])));
    }
    assert.ok((await p.metrics.value('floki_filter_multiline_evicted_streams_total', { name: 'multiline.0' })) > 0);
    await p.stop();
    assert.equal(p.out.length, n, 'every record went on');
  });
});

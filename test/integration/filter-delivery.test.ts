/**
 * Filters keep the delivery promise with real inputs: records a filter drops settle as delivered (tail
 * positions move past them, forward chunks are acked), records a filter re-emits hold their lines'
 * positions until they settle, and bad input (invalid UTF-8, a huge line, a hostile line for a
 * backtracking regex) costs nothing but its own record.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../helpers/floki-process.js';
import { arr, cat, eventTime, map, rawStr, rec, str } from '../helpers/msgpack-wire.js';
import { startPipeline, tempDir } from '../helpers/tail-harness.js';
import { waitFor } from '../helpers/wait.js';
import { RawClient } from './forward-harness.js';

function savedOffset(db: string): number | undefined {
  try {
    return (JSON.parse(readFileSync(db, 'utf8')) as { files: { offset: number }[] }).files[0]?.offset;
  } catch {
    return undefined;
  }
}

test('tail positions move past lines grep drops, and past re-emitted lines only once they settle', async (t) => {
  const dir = tempDir(t, 'floki-filters-');
  const file = join(dir, 'app.log');
  const db = join(dir, 'tail.db');
  const p = await startPipeline(
    t,
    `pipeline:
  inputs:
    - name: tail
      path: ${dir}/*.log
      tag: app
      db: ${db}
      refresh_interval: 1s
  filters:
    - name: grep
      match: app
      exclude: log ^debug
    - name: rewrite_tag
      match: app
      rule: $log ^error errors false
  outputs:
    - name: capture
      match: '*'
`,
  );
  p.capture.hold(false);
  writeFileSync(file, 'info 1\ndebug 2\nerror 3\ndebug 4\n');
  const size = statSync(file).size;
  await waitFor(() => p.capture.events.length === 2, 'the kept and the re-emitted line');
  assert.deepEqual(p.capture.events.map((e) => [e.tag, e.record.log]).sort(), [['app', 'info 1'], ['errors', 'error 3']]);
  await waitFor(() => savedOffset(db) !== undefined, 'the file in the db');
  assert.ok(savedOffset(db)! < size, 'the held lines keep the position before them');
  p.capture.release();
  await waitFor(() => savedOffset(db) === size, 'the position at the end of the file, past the dropped last line');
  assert.equal(await p.metric('floki_filter_dropped_records_total', { name: 'grep.0' }), 2);
});

test('a forward chunk whose records a filter drops, re-emits or cannot match is acked; bad input costs only its record', async (t) => {
  const port = await freePort();
  const p = await startPipeline(
    t,
    `pipeline:
  inputs:
    - name: forward
      listen: 127.0.0.1
      port: ${port}
  filters:
    - name: grep
      match: '*'
      exclude: log ^drop
    - name: modify
      match: '*'
      condition: key_value_matches log ^(a+)+$
      set: hostile survived
    - name: rewrite_tag
      match: app
      rule: $log ^re elsewhere false
  outputs:
    - name: capture
      match: '*'
`,
  );
  const client = await RawClient.connect(t, port);
  const badUtf8 = cat(map(1), str('log'), rawStr(Buffer.from([0x6b, 0x65, 0x65, 0x70, 0xff, 0xfe, 0x21]))); // "keep\xff\xfe!"
  const entries = [
    cat(arr(2), eventTime(1_800_000_000, 1), rec({ log: 'drop me' })),
    cat(arr(2), eventTime(1_800_000_000, 2), rec({ log: 're-emit me' })),
    cat(arr(2), eventTime(1_800_000_000, 3), badUtf8),
    cat(arr(2), eventTime(1_800_000_000, 4), rec({ log: 'a'.repeat(200_000) + '!' })),
    cat(arr(2), eventTime(1_800_000_000, 5), rec({ log: 'x'.repeat(4 * 1024 * 1024) })),
  ];
  const started = Date.now();
  await client.write(cat(arr(3), str('app'), arr(entries.length), ...entries, rec({ chunk: 'c2VlbiBvbmNl' })));
  const [ack] = await client.waitReplies(1, 20_000);
  assert.deepEqual(ack, { ack: 'c2VlbiBvbmNl' });
  assert.ok(Date.now() - started < 15_000, 'the hostile line did not stall the pipeline');
  await waitFor(() => p.capture.events.length === 4, 'four records out');
  const out = p.capture.events.map((e) => [e.tag, String(e.record.log).slice(0, 12), e.record.hostile]);
  assert.deepEqual(out.sort(), [
    ['app', 'a'.repeat(12), undefined],
    ['app', 'keep\ufffd\ufffd!', undefined],
    ['app', 'x'.repeat(12), undefined],
    ['elsewhere', 're-emit me', undefined],
  ]);
});

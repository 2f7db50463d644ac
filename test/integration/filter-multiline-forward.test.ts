/**
 * The multiline filter behind the forward input, where Docker's fluentd log driver sends the pieces of
 * a long line with partial_message keys: pieces sent in two chunks make one record, each chunk is acked
 * (the records are in the filter, as Fluent Bit's emitter holds them), the record goes on to the
 * filters after it (a parser filter here) and out; a Java trace sent over two chunks is one record.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort } from '../helpers/floki-process.js';
import { arr, cat, eventTime, rec, str } from '../helpers/msgpack-wire.js';
import { startPipeline } from '../helpers/tail-harness.js';
import { waitFor } from '../helpers/wait.js';
import { RawClient } from './forward-harness.js';

const entry = (s: number, n: number, record: Record<string, unknown>) => cat(arr(2), eventTime(s, n), rec(record));

test('partial_message pieces over two forward chunks: both acked, one record out, parsed by the next filter', async (t) => {
  const port = await freePort();
  const p = await startPipeline(
    t,
    `parsers:
  - name: kv
    format: regex
    regex: '^(?<key>\\w+)=(?<value>.*)$'
pipeline:
  inputs:
    - name: forward
      listen: 127.0.0.1
      port: ${port}
  filters:
    - name: multiline
      match: docker.*
      multiline.key_content: log
      mode: partial_message
    - name: multiline
      match: java
      multiline.key_content: log
      multiline.parser: java
    - name: parser
      match: docker.*
      key_name: log
      parser: kv
      reserve_data: on
  outputs:
    - name: capture
      match: '*'
`,
  );
  const client = await RawClient.connect(t, port);
  const piece = (log: string, last: boolean) => ({ log, source: 'stdout', partial_message: 'true', partial_id: 'abc', partial_ordinal: '1', partial_last: String(last), container_name: '/web' });
  await client.write(cat(arr(3), str('docker.web'), arr(2), entry(1_800_000_000, 1, piece('message=first half ', false)), entry(1_800_000_000, 2, { log: 'whole=line', source: 'stdout' }), rec({ chunk: 'Y2h1bmsx' })));
  await client.write(cat(arr(3), str('java'), arr(2), entry(1_800_000_001, 1, { log: 'java.lang.IllegalStateException: boom' }), entry(1_800_000_001, 2, { log: '\tat a.B.c(B.java:1)' }), rec({ chunk: 'Y2h1bmsy' })));
  const acks = await client.waitReplies(2, 10_000);
  assert.deepEqual(acks, [{ ack: 'Y2h1bmsx' }, { ack: 'Y2h1bmsy' }], 'each chunk is acked with its records held in the filter');
  await waitFor(() => p.capture.events.length === 1, 'the whole line');
  assert.deepEqual(p.capture.events[0]!.record, { key: 'whole', value: 'line', source: 'stdout' });

  await client.write(cat(arr(3), str('docker.web'), arr(1), entry(1_800_000_002, 1, piece('second half', true)), rec({ chunk: 'Y2h1bmsz' })));
  await client.write(cat(arr(3), str('java'), arr(2), entry(1_800_000_003, 1, { log: '\t... 1 more' }), entry(1_800_000_003, 2, { log: 'next line' }), rec({ chunk: 'Y2h1bms0' })));
  assert.deepEqual(await client.waitReplies(4, 10_000), [{ ack: 'Y2h1bmsx' }, { ack: 'Y2h1bmsy' }, { ack: 'Y2h1bmsz' }, { ack: 'Y2h1bms0' }]);
  await waitFor(() => p.capture.events.length === 4, 'the joined line, the joined trace and the line after it');
  const joined = p.capture.events.find((e) => e.tag === 'docker.web' && e.record.key === 'message')!;
  assert.deepEqual(joined.record, { key: 'message', value: 'first half second half', source: 'stdout', container_name: '/web' }, 'joined, then parsed by the filter after it');
  assert.equal(joined.time, 1_800_000_000_000_000_001n, "the first piece's time");
  const java = p.capture.events.filter((e) => e.tag === 'java').map((e) => e.record.log);
  assert.deepEqual(java, ['java.lang.IllegalStateException: boom\n\tat a.B.c(B.java:1)\n\t... 1 more', 'next line']);
});

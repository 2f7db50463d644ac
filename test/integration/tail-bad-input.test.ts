/**
 * Bad input through the tail input's parsers: a line `parser` does not match goes on unchanged and is
 * counted; invalid UTF-8 and lines far over buffer_max_size, inside and outside stack traces, cost
 * nothing but themselves: the lines after them arrive.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { criLine, startPipeline, T0, tempDir } from '../helpers/tail-harness.js';
import { startFussyPipeline } from '../helpers/fussy-pipeline.js';
import { waitFor } from '../helpers/wait.js';

const ms = (n: number) => T0 + BigInt(n) * 1_000_000n;

test('parser: a line it does not match goes on as it is, counted; invalid UTF-8 is replaced, not fatal', async (t) => {
  const dir = tempDir(t);
  writeFileSync(
    join(dir, 'app.log'),
    Buffer.concat([
      Buffer.from('{"level":"info","msg":"first"}\n'),
      Buffer.from('not json at all\n'),
      Buffer.from([0x7b, 0x22, 0x6d, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d, 0x0a]), // {"m":"\xff\xfe"}
      Buffer.from([0xc3, 0x28, 0x80, 0x0a]), // invalid sequences, not JSON
      Buffer.from('{"level":"warn","msg":"last"}\n'),
    ]),
  );
  const p = await startPipeline(
    t,
    `service:
  parsers_file: parsers.conf
pipeline:
  inputs:
    - name: tail
      path: ${dir}/*.log
      read_from_head: true
      parser: json
  outputs:
    - name: capture
      match: '*'
`,
  );
  await waitFor(() => p.capture.events.length === 5, '5 records');
  assert.deepEqual(
    p.capture.events.map((e) => e.record),
    [{ level: 'info', msg: 'first' }, { log: 'not json at all' }, { m: '\ufffd\ufffd' }, { log: '\ufffd(\ufffd' }, { level: 'warn', msg: 'last' }],
  );
  assert.equal(await p.metric('floki_input_tail_unparsed_lines_total'), 2);
});

test('CRI with stack-trace parsers: invalid UTF-8 and a 3 MiB line (inside a trace and alone) keep the pipeline going', async (t) => {
  const dir = tempDir(t);
  const huge = 'x'.repeat(3 * 1024 * 1024);
  const pieces: Buffer[] = [];
  // A 3 MiB line split by the runtime in 16 KiB pieces, as a frame of a Java trace.
  for (let i = 0; i < huge.length; i += 16 * 1024) pieces.push(criLine(ms(3), 'stderr', i + 16 * 1024 >= huge.length ? 'F' : 'P', `${i === 0 ? '\tat ' : ''}${huge.slice(i, i + 16 * 1024)}`));
  writeFileSync(
    join(dir, 'app.log'),
    Buffer.concat([
      criLine(ms(1), 'stdout', 'F', Buffer.from([0x62, 0x61, 0x64, 0x20, 0xff, 0xc3, 0x0a].slice(0, 6))),
      criLine(ms(2), 'stderr', 'F', 'java.lang.IllegalStateException: boom'),
      ...pieces,
      criLine(ms(4), 'stderr', 'F', Buffer.concat([Buffer.from('\tat bad.Utf8('), Buffer.from([0xe2, 0x82]), Buffer.from(')')])),
      criLine(ms(5), 'stdout', 'F', huge),
      criLine(ms(6), 'stderr', 'F', 'after the trace'),
      criLine(ms(7), 'stdout', 'F', 'after everything'),
    ]),
  );
  const p = await startPipeline(
    t,
    `pipeline:
  inputs:
    - name: tail
      path: ${dir}/*.log
      read_from_head: true
      multiline.parser: cri, java
  outputs:
    - name: capture
      match: '*'
`,
  );
  const events = p.capture.events;
  await waitFor(() => events.length === 5, '5 records', 20_000);
  const byTime = [...events].sort((a, b) => (a.time < b.time ? -1 : 1));
  assert.deepEqual(
    byTime.map((e) => [e.time, e.record.stream, e.record.log]),
    [
      [ms(1), 'stdout', 'bad \ufffd\ufffd'],
      // The long frame is cut at buffer_max_size (1 MiB), on a character boundary, and stays in its trace.
      [ms(2), 'stderr', `java.lang.IllegalStateException: boom\n\tat ${'x'.repeat(1024 * 1024 - 4)}\n\tat bad.Utf8(\ufffd)`],
      [ms(5), 'stdout', huge.slice(0, 1024 * 1024)],
      [ms(6), 'stderr', 'after the trace'],
      [ms(7), 'stdout', 'after everything'],
    ],
  );
  assert.equal(await p.metric('floki_input_tail_long_lines_total', { action: 'truncated' }), 2);
});

test('container lines whose time Loki cannot store (before 1970, after 2262) are refused and counted, not sent with the time they were read', async (t) => {
  const dir = tempDir(t);
  writeFileSync(
    join(dir, 'app.log'),
    [
      '1960-01-01T00:00:00.000000001Z stdout F before the epoch',
      '2300-01-01T00:00:00.5Z stderr F after 2262',
      '2262-04-11T23:47:16.854775807Z stdout F the last storable nanosecond',
      '{"log":"docker, 1969\\n","stream":"stdout","time":"1969-12-31T23:59:59.999999999Z"}',
      '2026-11-30T10:20:00.000000001Z stdout F now-ish',
      '',
    ].join('\n'),
  );
  const p = await startPipeline(
    t,
    `pipeline:
  inputs:
    - name: tail
      path: ${dir}/*.log
      read_from_head: true
      multiline.parser: cri, docker
  outputs:
    - name: capture
      match: '*'
`,
  );
  await waitFor(async () => (await p.metric('floki_input_tail_lines_total')) === 5, 'every line read');
  await waitFor(() => p.capture.events.length === 2, 'the two storable lines');
  assert.deepEqual(
    p.capture.events.map((e) => [e.time, e.record.log]),
    [
      [9_223_372_036_854_775_807n, 'the last storable nanosecond'],
      [1_796_034_000_000_000_001n, 'now-ish'],
    ],
  );
  assert.equal(await p.metric('floki_input_skipped_records_total', { reason: 'time_out_of_range' }), 3);
  assert.equal(await p.metric('floki_input_tail_malformed_lines_total'), 0);
});

/** A JSON object nested `levels` deep (the object itself is level 1). */
const deepJson = (levels: number): string => '{"a":'.repeat(levels - 1) + '{}' + '}'.repeat(levels - 1);

test('parser json: a line nested 5,000 levels deep goes on unparsed (counted, logged once); rewrite_tag keep true and the lines after it are not held up', async (t) => {
  const dir = tempDir(t);
  const deepLine = `{"level":"info","deep":${deepJson(5000)}}`;
  writeFileSync(join(dir, 'app.log'), ['{"level":"info","msg":"first"}', deepLine, '{"level":"info","msg":"last"}', ''].join('\n'));
  const p = await startFussyPipeline(
    t,
    `service:
  parsers_file: parsers.conf
pipeline:
  inputs:
    - name: tail
      tag: app
      path: ${dir}/*.log
      read_from_head: true
      parser: json
  filters:
    - name: rewrite_tag
      match: app
      rule: $level ^(info)$ copied true
  outputs:
    - name: fussy
      match: '*'
`,
  );
  await waitFor(() => p.events.some((e) => e.tag === 'app' && e.record.msg === 'last'), 'the line after the deep one', 5_000);
  await waitFor(() => p.events.some((e) => e.tag === 'copied' && e.record.msg === 'last'), 'the copy of the line after the deep one', 5_000);
  const deep = p.events.filter((e) => e.record.log === deepLine);
  assert.equal(deep.length, 1, 'the deep line is sent once, as it is (no level key to rewrite)');
  assert.equal(deep[0]!.tag, 'app');
  assert.equal(await p.metrics.value('floki_input_tail_too_deep_lines_total'), 1);
  assert.equal(await p.metrics.value('floki_input_tail_unparsed_lines_total'), 1);
  assert.equal(p.logs.filter((l) => l.includes('nested deeper than 64 levels')).length, 1);
});

test('the pipeline failing on lines for another reason than a full output: they are dropped, counted and logged, not retried; the next lines arrive', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'app.log');
  writeFileSync(file, '{"msg":"poison"}\n');
  const p = await startFussyPipeline(
    t,
    `pipeline:
  inputs:
    - name: tail
      tag: app
      path: ${dir}/*.log
      read_from_head: true
      refresh_interval: 1
  outputs:
    - name: fussy
      match: '*'
`,
  );
  await waitFor(async () => (await p.metrics.value('floki_input_emit_failed_records_total')) === 1, 'the poisoned line counted', 5_000);
  appendFileSync(file, '{"msg":"next"}\n');
  await waitFor(() => p.events.some((e) => String(e.record.log).includes('next')), 'the line after the poisoned one', 5_000);
  assert.equal(p.thrown, 1, 'the poisoned batch was not resent');
  assert.equal(p.logs.filter((l) => l.includes('the pipeline failed on lines')).length, 1);
});

/**
 * The tail input on CRI and docker files written here, with the edge cases a node produces: stdout and
 * stderr pieces interleaved, a split inside a multi-byte character, a P never followed by F, CRI-O
 * offsets, a 300 KiB line, an empty line, a final line without its newline.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LogEvent } from '../../src/core/event.js';
import { CONTAINER_ID, criLine, dockerLine, startPipeline, T0, tempDir } from '../helpers/tail-harness.js';
import { waitFor } from '../helpers/wait.js';

const FILE = `web-7d9f8b6c5-xk2lp_shop_nginx-${CONTAINER_ID}.log`;
const KUBERNETES = { pod_name: 'web-7d9f8b6c5-xk2lp', namespace_name: 'shop', container_name: 'nginx', container_id: CONTAINER_ID };

const config = (dir: string, parser: string, extra = '') => `pipeline:
  inputs:
    - name: tail
      path: ${dir}/*.log
      tag: kube.*
      read_from_head: true
${parser ? `      multiline.parser: ${parser}\n` : ''}      flush_timeout: 300ms
      refresh_interval: 1s
${extra}  outputs:
    - name: capture
      match: '*'
`;

const ms = (n: number) => BigInt(n) * 1_000_000n;
const shape = (e: LogEvent) => ({ time: e.time, ...e.record });
const big = (n: number) => Array.from({ length: n }, (_, i) => String.fromCharCode(0x61 + (i % 26))).join('');

test('CRI: pieces joined per stream as bytes, exact times, CRI-O offsets, a 300 KiB line, an empty line; a dangling P is flushed; an unfinished last line waits for its newline', async (t) => {
  const dir = tempDir(t);
  const euro = Buffer.from('price: 5€ and 😀!');
  const cut = euro.indexOf(Buffer.from('€')) + 1; // inside the euro sign's three bytes
  const huge = big(300 * 1024);
  const hugePieces: Buffer[] = [];
  for (let i = 0; i < huge.length; i += 16 * 1024) {
    const last = i + 16 * 1024 >= huge.length;
    hugePieces.push(criLine(T0 + ms(10), 'stdout', last ? 'F' : 'P', huge.slice(i, i + 16 * 1024)));
  }
  writeFileSync(
    join(dir, FILE),
    Buffer.concat([
      criLine(T0 + ms(1), 'stdout', 'P', 'out-1 '),
      criLine(T0 + ms(1), 'stderr', 'P', 'err-1 '),
      criLine(T0 + ms(2), 'stdout', 'P', 'out-2 '),
      criLine(T0 + ms(2), 'stderr', 'F', 'err-2'),
      criLine(T0 + ms(3), 'stdout', 'F', 'out-3'),
      criLine(T0 + ms(4), 'stdout', 'P', euro.subarray(0, cut)),
      criLine(T0 + ms(4), 'stdout', 'F', euro.subarray(cut)),
      criLine(T0 + ms(5) + 1n, 'stdout', 'F', 'cri-o utc', '+00:00'),
      criLine(T0 + ms(6) + 7n, 'stderr', 'F', 'cri-o local time', '+02:00'),
      criLine(T0 + ms(7), 'stdout', 'F', ''),
      criLine(T0 + ms(8), 'stdout', 'F', '  spaces and\ttabs kept  '),
      ...hugePieces,
      criLine(T0 + ms(11), 'stderr', 'P', 'no end in sight'),
      criLine(T0 + ms(12), 'stdout', 'F', 'after the dangling piece'),
      Buffer.from(`2026-11-25T10:00:00.013000000Z stdout F unfinished`),
    ]),
  );
  const p = await startPipeline(t, config(dir, 'cri'));
  const events = p.capture.events;
  await waitFor(() => events.length >= 10, '10 whole lines', 5000);
  const k = { kubernetes: KUBERNETES };
  assert.deepEqual(events.slice(0, 10).map(shape), [
    { time: T0 + ms(1), log: 'err-1 err-2', stream: 'stderr', ...k },
    { time: T0 + ms(1), log: 'out-1 out-2 out-3', stream: 'stdout', ...k },
    { time: T0 + ms(4), log: 'price: 5€ and 😀!', stream: 'stdout', ...k },
    { time: T0 + ms(5) + 1n, log: 'cri-o utc', stream: 'stdout', ...k },
    { time: T0 + ms(6) + 7n, log: 'cri-o local time', stream: 'stderr', ...k },
    { time: T0 + ms(7), log: '', stream: 'stdout', ...k },
    { time: T0 + ms(8), log: '  spaces and\ttabs kept  ', stream: 'stdout', ...k },
    { time: T0 + ms(10), log: huge, stream: 'stdout', ...k },
    { time: T0 + ms(12), log: 'after the dangling piece', stream: 'stdout', ...k },
    { time: T0 + ms(11), log: 'no end in sight', stream: 'stderr', ...k },
  ]);
  assert.equal(events[0]!.tag, `kube.${dir.slice(1).replace(/\//g, '.')}.${FILE}`);
  assert.equal(await p.metric('floki_input_tail_partial_lines_flushed_total'), 1, 'the P without F went out after flush_timeout');
  assert.equal(await p.metric('floki_input_tail_partial_lines_joined_total'), 3 + 1 + (hugePieces.length - 1) + 1);
  assert.equal(events.length, 10, 'the last line is not finished: it waits');

  appendFileSync(join(dir, FILE), '\n');
  await waitFor(() => events.length === 11, 'the finished last line', 5000);
  assert.deepEqual(shape(events[10]!), { time: T0 + ms(13), log: 'unfinished', stream: 'stdout', ...k });
});

test('docker json-file: pieces without a newline joined per stream, the newline kept (as Fluent Bit keeps it), a 300 KiB line, an empty line', async (t) => {
  const dir = tempDir(t);
  const huge = big(300 * 1024) + 'é';
  const pieces: Buffer[] = [];
  for (let i = 0; i < huge.length; i += 16 * 1024) {
    const piece = huge.slice(i, i + 16 * 1024);
    pieces.push(dockerLine(T0 + ms(5), 'stdout', i + 16 * 1024 >= huge.length ? piece + '\n' : piece));
  }
  writeFileSync(
    join(dir, FILE),
    Buffer.concat([
      dockerLine(T0 + ms(1), 'stdout', 'out-1 '),
      dockerLine(T0 + ms(1), 'stderr', 'err-1 '),
      dockerLine(T0 + ms(2), 'stdout', 'out-2\n'),
      dockerLine(T0 + ms(3), 'stderr', 'err-2 ünïcödé\n'),
      dockerLine(T0 + ms(4), 'stdout', '\n'),
      ...pieces,
      dockerLine(T0 + ms(6), 'stdout', 'keeps its trailing \\r\r\n'),
    ]),
  );
  const p = await startPipeline(t, config(dir, 'docker, cri'));
  const events = p.capture.events;
  await waitFor(() => events.length >= 5, '5 lines', 5000);
  const k = { kubernetes: KUBERNETES };
  assert.deepEqual(events.map(shape), [
    { time: T0 + ms(1), log: 'out-1 out-2\n', stream: 'stdout', ...k },
    { time: T0 + ms(1), log: 'err-1 err-2 ünïcödé\n', stream: 'stderr', ...k },
    { time: T0 + ms(4), log: '\n', stream: 'stdout', ...k },
    { time: T0 + ms(5), log: huge + '\n', stream: 'stdout', ...k },
    { time: T0 + ms(6), log: 'keeps its trailing \\r\r\n', stream: 'stdout', ...k },
  ]);
});

test('lines over buffer_max_size are truncated on a character boundary or skipped, and counted', async (t) => {
  const dir = tempDir(t);
  const lines = Buffer.concat([
    criLine(T0 + ms(1), 'stdout', 'F', 'short'),
    criLine(T0 + ms(2), 'stdout', 'P', 'x'.repeat(60)),
    criLine(T0 + ms(2), 'stdout', 'F', '€'.repeat(40)),
    criLine(T0 + ms(3), 'stdout', 'F', 'y'.repeat(5000)),
    criLine(T0 + ms(4), 'stdout', 'F', 'after'),
  ]);
  writeFileSync(join(dir, FILE), lines);
  const truncating = await startPipeline(t, config(dir, 'cri', '      buffer_max_size: 100\n'));
  await waitFor(() => truncating.capture.events.length >= 4, '4 lines', 5000);
  assert.deepEqual(
    truncating.capture.events.map((e) => e.record.log),
    ['short', 'x'.repeat(60) + '€'.repeat(13), 'y'.repeat(100), 'after'],
  );
  assert.equal(await truncating.metric('floki_input_tail_long_lines_total', { action: 'truncated' }), 2);
  await truncating.stop();

  const skipping = await startPipeline(t, config(dir, 'cri', '      buffer_max_size: 100\n      skip_long_lines: on\n'));
  await waitFor(() => skipping.capture.events.length >= 2, '2 lines', 5000);
  assert.deepEqual(skipping.capture.events.map((e) => e.record.log), ['short', 'after']);
  assert.equal(await skipping.metric('floki_input_tail_long_lines_total', { action: 'skipped' }), 2);
});

test('without multiline.parser each line is the record as it is; path_key and key name its fields', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'app.log'), 'first line\nsecond line\n');
  const p = await startPipeline(t, config(dir, '', '      path_key: file\n      key: message\n'));
  await waitFor(() => p.capture.events.length >= 2, '2 lines', 5000);
  assert.deepEqual(
    p.capture.events.map((e) => e.record),
    [
      { message: 'first line', file: join(dir, 'app.log') },
      { message: 'second line', file: join(dir, 'app.log') },
    ],
  );
});

test('without read_from_head a file starts at its end, but a line being written then is read whole', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, FILE);
  writeFileSync(path, Buffer.concat([criLine(T0, 'stdout', 'F', 'old line'), Buffer.from('2026-11-25T10:00:00.000000001Z stdout F being wri')]));
  const p = await startPipeline(t, config(dir, 'cri').replace('      read_from_head: true\n', ''));
  appendFileSync(path, Buffer.concat([Buffer.from('tten\n'), criLine(T0 + 2n, 'stdout', 'F', 'new line')]));
  await waitFor(() => p.capture.events.length >= 2, 'two lines', 5000);
  assert.deepEqual(
    p.capture.events.map((e) => [e.time, e.record.log]),
    [
      [T0 + 1n, 'being written'],
      [T0 + 2n, 'new line'],
    ],
  );
});

test('ignore_older leaves files last written long ago alone; exclude_path leaves matching ones alone', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'old.log'), criLine(T0, 'stdout', 'F', 'from last week'));
  const weekAgo = Date.now() / 1000 - 7 * 86400;
  utimesSync(join(dir, 'old.log'), weekAgo, weekAgo);
  writeFileSync(join(dir, 'skip.log'), criLine(T0, 'stdout', 'F', 'excluded'));
  writeFileSync(join(dir, 'new.log'), criLine(T0, 'stdout', 'F', 'fresh'));
  const p = await startPipeline(t, config(dir, 'cri', '      ignore_older: 1d\n      exclude_path: "*/skip.log"\n'));
  await waitFor(() => p.capture.events.length >= 1, 'the fresh file', 5000);
  assert.equal(await p.metric('floki_input_tail_files_open'), 1);
  assert.deepEqual(p.capture.events.map((e) => e.record.log), ['fresh']);
});

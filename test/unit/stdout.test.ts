import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';
import pino from 'pino';
import type { LogEvent } from '../../src/core/event.js';
import type { OutputContext } from '../../src/core/plugin.js';
import { Metrics } from '../../src/observability/metrics.js';
import { Rfc3339NanoFormatter, StdoutOutput, stdoutOutput } from '../../src/outputs/stdout/index.js';
import { waitFor } from '../helpers/wait.js';
import { ParserRegistry } from '../../src/parsers/registry.js';

function context(fullCalls: boolean[] = [], metrics = new Metrics()): OutputContext {
  return {
    name: 'x.0',
    log: pino({ level: 'silent' }),
    metrics,
    service: { flushMs: 1000, graceMs: 5000, logLevel: 'info' }, parsers: new ParserRegistry(),
    setFull: (full) => fullCalls.push(full),
  };
}

const T = 1_795_600_800_000_123_456n; // 2026-11-25T10:00:00.000123456Z

function sampleEvents(): LogEvent[] {
  return [
    {
      tag: 'kube.event',
      time: T,
      labels: { type: 'Warning', reason: 'BackOff', kind: 'Pod', namespace: 'shop' },
      line: '{"reason":"BackOff","message":"pod \\u003cpending\\u003e"}',
      record: { ignored: true },
    },
    { tag: 'dummy', time: T + 1_000_000_000n, record: { message: 'dummy', n: 1 } },
  ];
}

function collect(stream: PassThrough): { text: () => string } {
  let text = '';
  stream.setEncoding('utf8').on('data', (d: string) => (text += d));
  return { text: () => text };
}

test('the plugin declares format with readable as default', () => {
  const format = stdoutOutput.options.find((o) => o.name === 'format');
  assert.equal(format?.default, 'readable');
  assert.deepEqual(format?.choices, ['readable', 'loki_json_lines', 'json_lines', 'json_stream', 'json', 'msgpack', 'fluentd']);
});

test('readable: time with nanoseconds, tag, labels, line (or the record as JSON)', async () => {
  const stream = new PassThrough();
  const got = collect(stream);
  const out = new StdoutOutput({ format: 'readable' }, context(), stream);
  await out.start();
  out.write(sampleEvents());
  await out.stop(1000);
  await waitFor(() => got.text().split('\n').length === 3, 'two lines');
  assert.equal(
    got.text(),
    '2026-11-25T10:00:00.000123456Z kube.event {type="Warning", reason="BackOff", kind="Pod", namespace="shop"} ' +
      '{"reason":"BackOff","message":"pod \\u003cpending\\u003e"}\n' +
      '2026-11-25T10:00:01.000123456Z dummy {} {"message":"dummy","n":1}\n',
  );
});

test('loki_json_lines: one object per entry with tag, time, labels and line', async () => {
  const stream = new PassThrough();
  const got = collect(stream);
  const out = new StdoutOutput({ format: 'loki_json_lines' }, context(), stream);
  await out.start();
  const events = sampleEvents();
  out.write(events);
  await out.stop(1000);
  await waitFor(() => got.text().split('\n').length === 3, 'two lines');
  const lines = got.text().trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(lines[0], {
    tag: 'kube.event',
    time: '2026-11-25T10:00:00.000123456Z',
    labels: { type: 'Warning', reason: 'BackOff', kind: 'Pod', namespace: 'shop' },
    line: events[0]!.line,
  });
  assert.deepEqual(lines[1], { tag: 'dummy', time: '2026-11-25T10:00:01.000123456Z', labels: {}, line: '{"message":"dummy","n":1}' });
});

test('a record holding a bigint is still printed', async () => {
  const stream = new PassThrough();
  const got = collect(stream);
  const out = new StdoutOutput({ format: 'readable' }, context(), stream);
  out.write([{ tag: 't', time: 0n, record: { big: 9007199254740993n } }]);
  await out.stop(1000);
  await waitFor(() => got.text().endsWith('\n'), 'a line');
  assert.equal(got.text(), '1970-01-01T00:00:00.000000000Z t {} {"big":"9007199254740993"}\n');
});

test('times before 1970 and at second boundaries', () => {
  const f = new Rfc3339NanoFormatter();
  assert.equal(f.format(-1n), '1969-12-31T23:59:59.999999999Z');
  assert.equal(f.format(1_000_000_000n), '1970-01-01T00:00:01.000000000Z');
  assert.equal(f.format(1_000_000_001n), '1970-01-01T00:00:01.000000001Z');
  assert.equal(f.format(T), '2026-11-25T10:00:00.000123456Z');
});

/** A stream that holds every write until released, as a slow terminal or pipe would. */
class HeldStream extends Writable {
  readonly chunks: Buffer[] = [];
  private held: Array<() => void> = [];
  constructor() {
    super({ highWaterMark: 64 });
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.chunks.push(chunk);
    this.held.push(() => done());
  }
  release(): void {
    // Releasing one lets the stream hand over the next: keep going until it stops asking.
    while (this.held.length > 0) this.held.shift()!();
  }
}

test('one write per batch; a full stream sets full until drain; queuedBytes follows', async () => {
  const stream = new HeldStream();
  const fullCalls: boolean[] = [];
  const metrics = new Metrics();
  const out = new StdoutOutput({ format: 'readable' }, context(fullCalls, metrics), stream);
  out.write(sampleEvents());
  assert.equal(stream.chunks.length, 1, 'one write for the batch');
  assert.ok(out.queuedBytes() > 64);
  assert.deepEqual(fullCalls, [true]);
  out.write(sampleEvents());
  assert.deepEqual(fullCalls, [true], 'reported once');
  const queued = out.queuedBytes();
  assert.ok(queued > 128);

  await waitFor(() => {
    stream.release();
    return out.queuedBytes() === 0;
  }, 'the stream to take everything');
  await waitFor(() => fullCalls.length === 2, 'drain');
  assert.deepEqual(fullCalls, [true, false]);
  assert.equal(stream.chunks.length, 2);
  assert.equal(await metrics.value('floki_output_proc_records_total', { name: 'x.0' }), 4);
  assert.equal(await metrics.value('floki_output_proc_bytes_total', { name: 'x.0' }), queued);
  await out.stop(1000);
});

test('stop waits for the stream to take what is queued, or for the deadline', async () => {
  const stream = new HeldStream();
  const out = new StdoutOutput({}, context(), stream);
  out.write(sampleEvents());
  let stopped = false;
  const stopping = out.stop(60_000).then(() => (stopped = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(stopped, false, 'still queued');
  stream.release();
  await stopping;
  assert.equal(out.queuedBytes(), 0);

  const never = new HeldStream();
  const out2 = new StdoutOutput({}, context(), never);
  out2.write(sampleEvents());
  const t0 = Date.now();
  await out2.stop(50);
  assert.ok(Date.now() - t0 >= 45, 'waited for the deadline');
  assert.ok(out2.queuedBytes() > 0);
});

test('a broken stream (EPIPE) is logged once, not thrown; later records are dropped and counted', async () => {
  const stream = new HeldStream();
  const fullCalls: boolean[] = [];
  const metrics = new Metrics();
  const logs: string[] = [];
  const ctx = { ...context(fullCalls, metrics), log: pino({ level: 'info' }, { write: (s: string) => logs.push(s) }) };
  const out = new StdoutOutput({}, ctx, stream);
  out.write(sampleEvents());
  assert.deepEqual(fullCalls, [true]);
  stream.destroy(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
  await waitFor(() => logs.length > 0, 'the error to be logged');
  assert.deepEqual(fullCalls, [true, false], 'nothing queued any more: inputs may go on');
  out.write(sampleEvents());
  out.write(sampleEvents());
  await waitFor(async () => (await metrics.value('floki_output_dropped_records_total', { name: 'x.0' })) === 4, 'dropped records');
  assert.equal(out.queuedBytes(), 0);
  assert.equal(logs.length, 1);
  assert.match(logs[0]!, /EPIPE/);
  await out.stop(1000);
  assert.equal(stream.listenerCount('error'), 0, 'stop removes its listeners');
});

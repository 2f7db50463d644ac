/**
 * The stdout filter: Fluent Bit's lines compared with what Fluent Bit 5.1.1 printed for the same records
 * (test/fixtures/filter-stdout/fluent-bit.out, see its README); Fluentd's lines as formatter_stdout.rb
 * builds them (`%Y-%m-%d %H:%M:%S.%N %z` local time, tag, JSON). Both pass the events on unchanged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { LogEvent } from '../../src/core/event.js';
import { StdoutFilter } from '../../src/filters/stdout/index.js';
import { lookupPlugin } from '../../src/core/registry-types.js';
import { PLUGINS } from '../../src/plugins.js';
import { startFilters } from './filter-harness.js';
import { waitFor } from '../helpers/wait.js';

const RECORD = { log: 'hello "x"', n: 1, f: 1.5, m: { a: [1, true, null] } };
const FIXTURE = new URL('../fixtures/filter-stdout/fluent-bit.out', import.meta.url);

test("fluent-bit: the lines Fluent Bit's stdout filter printed, the events passed on unchanged", () => {
  const expected = readFileSync(FIXTURE, 'utf8').trimEnd().split('\n');
  const events: LogEvent[] = expected.map((line) => {
    const [, sec, nsec] = /\[(\d+)\.(\d{9}),/.exec(line)!;
    return { tag: 'app.one', time: BigInt(sec!) * 1_000_000_000n + BigInt(nsec!), record: structuredClone(RECORD) };
  });
  let printed = '';
  const out = new StdoutFilter({}, (text) => (printed += text)).process(events);
  assert.equal(out, events);
  assert.deepEqual(printed.trimEnd().split('\n'), expected);
  assert.deepEqual(out[0]!.record, RECORD);
});

test('fluentd: time, tag and JSON, as formatter_stdout prints them', () => {
  let printed = '';
  new StdoutFilter({ format: 'fluentd' }, (text) => (printed += text)).process([{ tag: 'app', time: 1_764_670_380_123_456_789n, record: { a: 'é', n: 1 } }]);
  assert.match(printed, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.123456789 [+-]\d{4} app: \{"a":"é","n":1\}\n$/);
  if (new Date(0).getTimezoneOffset() === 0) assert.equal(printed, '2025-12-02 10:13:00.123456789 +0000 app: {"a":"é","n":1}\n');
});

test('the name: a plain stdout is still the output; the filter is found by kind', async (t) => {
  assert.equal(lookupPlugin(PLUGINS, 'output', 'stdout')?.kind, 'output');
  assert.equal(lookupPlugin(PLUGINS, 'filter', 'stdout')?.kind, 'filter');
  const writes: string[] = [];
  const original = process.stdout.write;
  process.stdout.write = ((chunk: string) => (writes.push(String(chunk)), true)) as typeof process.stdout.write;
  t.after(() => (process.stdout.write = original));
  const p = await startFilters([{ name: 'stdout', match: '*' }]);
  t.after(() => p.stop());
  await p.emit('app', [{ a: 1 }]);
  await waitFor(() => p.out.length === 1, 'the event passed on');
  process.stdout.write = original;
  assert.deepEqual(p.out[0]!.record, { a: 1 });
  assert.match(writes.join(''), /^\[0\] app: \[\d+\.\d{9}, \{\}, \{"a"=>1\}\]\n$/);
});

test('the stdout output prints the same Fluentd line with format fluentd', async () => {
  const { formatBatch, Rfc3339NanoFormatter } = await import('../../src/outputs/stdout/index.js');
  const { fluentdLine } = await import('../../src/filters/stdout/index.js');
  const event: LogEvent = { tag: 'app', time: 1_764_670_380_123_456_789n, record: { a: 1 } };
  assert.equal(formatBatch([event], 'fluentd', new Rfc3339NanoFormatter()), fluentdLine(event) + '\n');
});

/**
 * The parser filter: every parser case of test/fixtures/parsers (what Fluent Bit 5.1.1 made of each
 * line) end to end through the filter; what it counts; and bad input (hostile lines, invalid UTF-16,
 * huge values, random records) costing nobody else anything. Its Fluent Bit cases (reserve_data,
 * preserve_key, record accessors, times, the documentation's examples) are in
 * test/fixtures/filters/parser, run by filter-fluent-bit-cases.test.ts.
 */
import { describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { pino } from 'pino';
import type { LogEvent } from '../../src/core/event.js';
import { ParserFilter } from '../../src/filters/parser/filter.js';
import { parserFilter } from '../../src/filters/parser/index.js';
import { Metrics } from '../../src/observability/metrics.js';
import { ParserRegistry, type ParserSpec } from '../../src/parsers/registry.js';
import { stockParsersFile } from '../../src/parsers/stock.js';
import { NON_LINEAR_MAX_LENGTH } from '../../src/parsers/regex/bounded-regex.js';
import { readClassicFile } from '../fixtures/parsers/classic-specs.js';
import { runs } from '../helpers/fuzz.js';
import { pluginContext } from '../helpers/plugin-context.js';

const casesDir = join(import.meta.dirname, '..', 'fixtures', 'parsers', 'cases');

interface ParserCase {
  parser: string;
  stock?: boolean;
  env?: Record<string, string>;
  parsers?: { name: string; entries: [string, string][] }[];
  lines: string[];
  fluentBit: ({ unmatched: true } | { record: Record<string, unknown>; time: string })[];
}

function spec(name: string, entries: [string, string][], line = 1): ParserSpec {
  return { file: 'test.conf', line, entries: [['name', name], ...entries].map(([key, value], j) => ({ key: key.toLowerCase(), value, line: line + j })) };
}

function registryOf(specs: ParserSpec[]): ParserRegistry {
  const r = new ParserRegistry();
  for (const s of specs) assert.deepEqual(r.define(s), []);
  return r;
}

function filterWith(registry: ParserRegistry, options: Record<string, unknown>, metrics = new Metrics(), log = pino({ level: 'silent' })): ParserFilter {
  return new ParserFilter(options, { ...pluginContext('parser.0', metrics), parsers: registry, log });
}

async function metric(metrics: Metrics, name: string, labels: Record<string, string>): Promise<number> {
  const m = await metrics.registry.getSingleMetric(name)!.get();
  return m.values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value ?? 0;
}

function withEnv<T>(env: Record<string, string> | undefined, f: () => T): T {
  if (env === undefined) return f();
  const saved = new Map(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return f();
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** Fluent Bit reads a fraction through a double and may land 1 ns low; floki keeps the digits. */
function throughDouble(ns: bigint): bigint {
  const seconds = ns / 1_000_000_000n;
  const frac = ns % 1_000_000_000n;
  return seconds * 1_000_000_000n + BigInt(Math.trunc(Number.parseFloat('0.' + frac.toString().padStart(9, '0')) * 1e9));
}

/** Formats without a year take the current one (the cases were captured in another year). */
const YEARLESS = new Set(['r7', 'syslog-rfc3164-local', 'syslog-rfc3164']);
const OWN_TIME = 42n;

for (const file of readdirSync(casesDir).filter((f) => f.endsWith('.json'))) {
  const doc = JSON.parse(readFileSync(join(casesDir, file), 'utf8')) as { cases: ParserCase[] };
  describe(`the parser filter on the parser cases of ${file} (Fluent Bit 5.1.1's records)`, () => {
    for (const c of doc.cases) {
      it(`${c.parser}: ${c.lines.length} record(s)`, () => {
        withEnv(c.env, () => {
          const registry = registryOf(c.stock ? readClassicFile(stockParsersFile()).parsers : c.parsers!.map((p, i) => spec(p.name, p.entries, i * 100 + 1)));
          const filter = filterWith(registry, { key_name: 'log', parser: [c.parser] });
          const events: LogEvent[] = c.lines.map((line) => ({ tag: 't', time: OWN_TIME, record: { log: line } }));
          const out = filter.process(events);
          assert.equal(out.length, c.lines.length);
          out.forEach((e, i) => {
            const expected = c.fluentBit[i]!;
            const what = `${c.parser} line ${i + 1}: ${JSON.stringify(c.lines[i])}`;
            if ('unmatched' in expected) {
              assert.deepEqual(e.record, { log: c.lines[i] }, `${what}: unchanged`);
              assert.equal(e.time, OWN_TIME, `${what}: its own time`);
              return;
            }
            assert.deepEqual(e.record, expected.record, `${what}: record`);
            assert.deepEqual(Object.keys(e.record), Object.keys(expected.record), `${what}: key order`);
            if (expected.time === 'now') assert.equal(e.time, OWN_TIME, `${what}: no time read, the event keeps its own`);
            else if (YEARLESS.has(c.parser)) assert.equal(new Date(Number(e.time / 1_000_000n)).toISOString().slice(4), new Date(Number(BigInt(expected.time) / 1_000_000n)).toISOString().slice(4), what);
            else assert.equal(throughDouble(e.time), BigInt(expected.time), `${what}: time`);
          });
        });
      });
    }
  });
}

const KV = spec('kv', [
  ['format', 'regex'],
  ['regex', '^(?<a>\\w+)=(?<b>\\w+)(?: (?<time>\\S+))?$'],
  ['time_key', 'time'],
  ['time_format', '%Y-%m-%dT%H:%M:%S'],
]);

test('records passed on unchanged are counted by reason, and times that do not fit the format', async () => {
  const metrics = new Metrics();
  const filter = filterWith(registryOf([KV]), { key_name: 'log', parser: ['kv'] }, metrics);
  const events: LogEvent[] = [
    { tag: 't', time: 1n, record: { log: 'x=y 2020-01-02T03:04:05' } },
    { tag: 't', time: 2n, record: { log: 'x=y yesterday' } },
    { tag: 't', time: 3n, record: { log: 'no match' } },
    { tag: 't', time: 4n, record: { log: 7 } },
    { tag: 't', time: 5n, record: { other: 'x=y' } },
  ];
  const out = filter.process(events);
  assert.deepEqual(
    out.map((e) => [e.record, e.time]),
    [
      [{ a: 'x', b: 'y' }, 1577934245000000000n],
      [{ a: 'x', b: 'y' }, 2n],
      [{ log: 'no match' }, 3n],
      [{ log: 7 }, 4n],
      [{ other: 'x=y' }, 5n],
    ],
  );
  assert.equal(await metric(metrics, 'floki_filter_parser_unparsed_records_total', { name: 'parser.0', reason: 'no_match' }), 1);
  assert.equal(await metric(metrics, 'floki_filter_parser_unparsed_records_total', { name: 'parser.0', reason: 'no_value' }), 2);
  assert.equal(await metric(metrics, 'floki_filter_parser_time_failures_total', { name: 'parser.0' }), 1);
});

test('a changed record drops the exact line a filter before fixed; metadata and labels stay', () => {
  const filter = filterWith(registryOf([KV]), { key_name: 'log', parser: ['kv'] });
  const event: LogEvent = { tag: 't', time: 1n, record: { log: 'x=y' }, line: '{"log":"x=y"}', metadata: { m: 1 }, labels: { app: 'a' } };
  const untouched: LogEvent = { tag: 't', time: 1n, record: { log: '!' }, line: 'kept' };
  filter.process([event, untouched]);
  assert.equal(event.line, undefined);
  assert.deepEqual(event.metadata, { m: 1 });
  assert.deepEqual(event.labels, { app: 'a' });
  assert.equal(untouched.line, 'kept');
});

test('a binary value (msgpack bin from a forward client) is parsed as its UTF-8 text, as Fluent Bit reads it', () => {
  const filter = filterWith(registryOf([KV]), { key_name: 'log', parser: ['kv'] });
  const [e] = filter.process([{ tag: 't', time: 1n, record: { log: Buffer.from('x=yz') } }]);
  assert.deepEqual(e!.record, { a: 'x', b: 'yz' });
});

test('parsers the config does not define: skipped with one warning, or the config refused when none is left', () => {
  const registry = registryOf([KV]);
  const lines: string[] = [];
  const log = pino({ level: 'warn' }, { write: (l: string) => lines.push(l) });
  const filter = filterWith(registry, { key_name: 'log', parser: ['nope', 'kv'] }, new Metrics(), log);
  filter.process([{ tag: 't', time: 1n, record: { log: 'x=y' } }, { tag: 't', time: 1n, record: { log: 'x=y' } }]);
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /"parsers":\["nope"\]/);
  assert.throws(() => parserFilter.check!({ key_name: 'log', parser: ['nope', 'other'] }, { parsers: registry }), /parser: no parser named 'nope', 'other' in the config \(known: kv\)/);
  assert.throws(() => parserFilter.check!({ key_name: 'log', parser: [] }, { parsers: registry }), /parser: no parser named \(none given\)/);
  assert.throws(() => parserFilter.check!({ key_name: "$a['b", parser: ['kv'] }, { parsers: registry }), /key_name:/);
  assert.doesNotThrow(() => parserFilter.check!({ key_name: 'log', parser: ['kv'] }, { parsers: registry }));
});

describe('bad input costs nobody else anything', () => {
  it('a line crafted against a pattern that backtracks catastrophically is answered in linear time', () => {
    const registry = registryOf([spec('words', [['format', 'regex'], ['regex', '^(?<words>(\\w+\\s?)+)$']])]);
    const filter = filterWith(registry, { key_name: 'log', parser: ['words'] });
    const hostile = 'a'.repeat(200_000) + '!';
    const started = process.hrtime.bigint();
    const out = filter.process([
      { tag: 't', time: 1n, record: { log: hostile } },
      { tag: 't', time: 2n, record: { log: 'fine words here' } },
    ]);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    assert.equal(out[0]!.record.log, hostile, 'not matched: unchanged');
    assert.deepEqual(out[1]!.record, { words: 'fine words here' });
    // Unbounded, this shape backtracks 2^200000 times on the first line.
    assert.ok(ms < 3000, `took ${ms} ms`);
  });

  it('a pattern the linear engine cannot run leaves a line over the bound unchanged, counted', async () => {
    const metrics = new Metrics();
    const registry = registryOf([spec('look', [['format', 'regex'], ['regex', '^(?<k>\\w+)=(?<v>.*)(?<=;)$']])]);
    const filter = filterWith(registry, { key_name: 'log', parser: ['look'] }, metrics);
    const long = 'k=' + 'v'.repeat(NON_LINEAR_MAX_LENGTH) + ';';
    const out = filter.process([
      { tag: 't', time: 1n, record: { log: long } },
      { tag: 't', time: 1n, record: { log: 'k=v;' } },
    ]);
    assert.equal(out[0]!.record.log, long);
    assert.deepEqual(out[1]!.record, { k: 'k', v: 'v;' });
    assert.equal(await metric(metrics, 'floki_filter_parser_unparsed_records_total', { reason: 'no_match' }), 1);
  });

  it('invalid UTF-16 (lone surrogates from bad UTF-8 upstream) and a 16 MiB value are parsed or passed, never thrown on', () => {
    const registry = registryOf([spec('j', [['format', 'json']]), spec('lf', [['format', 'logfmt']]), KV]);
    const filter = filterWith(registry, { key_name: 'log', parser: ['j', 'kv', 'lf'], reserve_data: true });
    const huge = '{"msg":"' + 'x'.repeat(16 * 1024 * 1024) + '"}';
    const out = filter.process([
      { tag: 't', time: 1n, record: { log: '{"a":"\ud800 \udfff"}' } },
      { tag: 't', time: 1n, record: { log: 'a=\udc00 b="\ud83d"' } },
      { tag: 't', time: 1n, record: { log: '\ufffd\u0000=\u0000' } },
      { tag: 't', time: 1n, record: { log: huge } },
    ]);
    assert.deepEqual(out[0]!.record, { a: '\ud800 \udfff' });
    assert.deepEqual(out[1]!.record, { a: '\udc00', b: '\ud83d' });
    assert.equal((out[3]!.record.msg as string).length, 16 * 1024 * 1024);
  });

  it('arbitrary records: every event comes out once, parsed or the same record, and nothing throws', () => {
    const registry = registryOf([spec('j', [['format', 'json']]), spec('lf', [['format', 'logfmt']]), spec('lt', [['format', 'ltsv']]), KV]);
    const text = fc.oneof(fc.string(), fc.json(), fc.string({ unit: 'binary' }), fc.constantFrom('a=b c="d e"', 'x=y 2020-01-02T03:04:05', 'k:v\tl:w'));
    const record = fc.dictionary(fc.oneof(fc.constant('log'), fc.string()), fc.oneof(text, fc.integer(), fc.constant(null), fc.jsonValue()), { maxKeys: 5 });
    fc.assert(
      fc.property(fc.array(record, { maxLength: 10 }), fc.boolean(), fc.boolean(), fc.subarray(['j', 'lf', 'lt', 'kv'], { minLength: 1 }), (records, reserve, preserve, parsers) => {
        const filter = filterWith(registry, { key_name: 'log', parser: parsers, reserve_data: reserve, preserve_key: preserve });
        const events: LogEvent[] = records.map((r, i) => ({ tag: 't', time: BigInt(i), record: r }));
        const before = records.map((r) => ({ record: r, json: JSON.stringify(r) }));
        const out = filter.process(events);
        assert.equal(out.length, records.length);
        out.forEach((e, i) => {
          const was = before[i]!;
          if (e.record === was.record) {
            assert.equal(JSON.stringify(e.record), was.json, 'an unparsed record is not touched');
            return;
          }
          assert.equal(typeof was.record.log === 'string', true, 'only a string value is parsed');
          if (reserve) for (const k of Object.keys(was.record)) if (k !== 'log' || preserve) assert.ok(Object.hasOwn(e.record, k), `reserve_data keeps ${k}`);
        });
      }),
      runs(200),
    );
  });
});

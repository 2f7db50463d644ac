/**
 * The multiline engine on the trace fixtures of test/fixtures/multiline, against what Fluent Bit
 * 5.1.1 printed for the same input (cases.json): the tail input's `multiline.parser` (lines as text,
 * one stream per file) and the multiline filter after `cri` (records, one stream per file). Then the
 * same CRI logs joined per file and stream, as floki's filter can: each trace one entry.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MultilineJoiner, type MultilineEntry } from '../../src/parsers/multiline/multiline-joiner.js';
import { ParserRegistry } from '../../src/parsers/registry.js';
import { readClassicSpecs } from '../fixtures/parsers/classic-specs.js';

const dir = join(import.meta.dirname, '..', 'fixtures', 'multiline');

interface Expected {
  record: Record<string, unknown>;
  time: string;
}
interface Case {
  name: string;
  files: string[];
  tail: string;
  parsers?: string;
  filter?: { parser: string; keyContent: string };
  fluentBit: Record<string, Expected[]>;
}

const doc = JSON.parse(readFileSync(join(dir, 'cases.json'), 'utf8')) as { cases: Case[] };

function registryFor(c: Case): ParserRegistry {
  const r = new ParserRegistry();
  for (const spec of readClassicSpecs(c.parsers ?? '', 'parsers.conf').multilineParsers) assert.deepEqual(r.defineMultiline(spec), []);
  assert.deepEqual(r.validate(), []);
  return r;
}

function parsersFor(r: ParserRegistry, list: string) {
  return list.split(',').map((n) => {
    const p = r.multilineParser(n.trim());
    assert.ok(p, `multiline parser ${n}`);
    return p;
  });
}

function lines(file: string): string[] {
  const text = readFileSync(join(dir, file), 'utf8');
  return text.endsWith('\n') ? text.slice(0, -1).split('\n') : text.split('\n');
}

/** Lines through the tail input's joiner (text, one stream per file), then the filter's when the case has one. */
function run(c: Case, perStream = false): Record<string, MultilineEntry<number>[]> {
  const r = registryFor(c);
  const tail = new MultilineJoiner<number>(parsersFor(r, c.tail));
  const result: Record<string, MultilineEntry<number>[]> = {};
  let now = 1000;
  for (const f of c.files) {
    const out: MultilineEntry<number>[] = [];
    lines(f).forEach((line, i) => tail.appendText(f, line, undefined, i, now++, out));
    tail.flushKey(f, out);
    result[f] = out;
  }
  if (c.filter === undefined) return result;
  const filter = new MultilineJoiner<number>(parsersFor(r, c.filter.parser), { keyContent: c.filter.keyContent });
  for (const f of c.files) {
    const out: MultilineEntry<number>[] = [];
    for (const e of result[f]!) {
      const key = perStream ? `${f}\0${String(e.record.stream)}` : f;
      filter.appendRecord(key, e.record, e.time, e.tokens[0]!, now++, out);
    }
    filter.flushAll(out);
    result[f] = out;
  }
  return result;
}

/** Fluent Bit reads a fraction through a double and may land 1 ns low; floki keeps the digits. */
function throughDouble(ns: bigint): bigint {
  const s = ns / 1_000_000_000n;
  const frac = ns % 1_000_000_000n;
  return s * 1_000_000_000n + BigInt(Math.trunc(Number.parseFloat('0.' + frac.toString().padStart(9, '0')) * 1e9));
}

describe('multiline against Fluent Bit 5.1.1', () => {
  for (const c of doc.cases) {
    it(`${c.name}: the entries Fluent Bit made`, () => {
      const before = BigInt(Date.now() - 1000) * 1_000_000n;
      const got = run(c);
      const after = BigInt(Date.now() + 1000) * 1_000_000n;
      for (const f of c.files) {
        let expected = c.fluentBit[f]!;
        if (c.name === 'cri-then-filter') {
          // Fluent Bit 5.1.1's filter emits a traceback's last line a second time (it keeps that line as
          // the context of the next entry after ending the entry on it); floki does not.
          expected = expected.filter((e, i) => !(i > 0 && e.record.log === "KeyError: 'id'" && String(expected[i - 1]!.record.log).endsWith("KeyError: 'id'")));
        }
        const all = got[f]!;
        const entries = all.filter((e) => !e.dropped);
        assert.deepEqual(
          entries.map((e) => e.record),
          expected.map((e) => e.record),
          `${c.name} ${f}: records`,
        );
        entries.forEach((e, i) => {
          assert.deepEqual(Object.keys(e.record), Object.keys(expected[i]!.record), `${f} entry ${i}: key order`);
          const t = expected[i]!.time;
          if (t === 'now') assert.ok(e.time >= before && e.time <= after, `${f} entry ${i}: stamped now`);
          else assert.equal(throughDouble(e.time), BigInt(t), `${f} entry ${i}: time`);
        });
        const tokens = all.flatMap((e) => e.tokens).sort((a, b) => a - b);
        if (c.filter === undefined) assert.deepEqual(tokens, lines(f).map((_, i) => i), `${f}: every line in exactly one entry`);
      }
    });
  }
});

describe('CRI logs joined per file and stream', () => {
  const c = doc.cases.find((x) => x.name === 'cri-then-filter')!;
  const got = run(c, true);
  const criTime = (file: string, n: number): bigint => {
    const t = lines(file)[n]!.split(' ')[0]!;
    const [s, frac] = t.replace('Z', '').split('.');
    return (BigInt(Date.parse(s + 'Z')) / 1000n) * 1_000_000_000n + BigInt(frac!.padEnd(9, '0'));
  };

  it('a Java exception with Caused by and ... N more, split by the runtime and interleaved with stdout, is one entry with its first line\'s time', () => {
    const f = c.files[0]!;
    const stderr = got[f]!.filter((e) => e.record.stream === 'stderr');
    assert.equal(stderr.length, 2, 'the logger line and the exception');
    assert.equal(
      stderr[1]!.record.log,
      'java.lang.IllegalStateException: Failed to process order 42\n' +
        '\tat com.example.demo.OrderService.process(OrderService.java:57)\n' +
        '\tat com.example.demo.OrderController.create(OrderController.java:31)\n' +
        'Caused by: java.sql.SQLException: Connection refused (host=db.default.svc.cluster.local, port=5432, timeout=30s)\n' +
        '\tat com.example.demo.Db.connect(Db.java:12)\n' +
        '\t... 2 more',
    );
    assert.equal(stderr[1]!.time, criTime(f, 2));
    assert.equal(got[f]!.filter((e) => e.record.stream === 'stdout').length, 4, 'stdout lines stay separate (one of them joined from P and F)');
  });

  it('a Python traceback and a Go panic in the same stderr are one entry each', () => {
    const f = c.files[1]!;
    const stderr = got[f]!.filter((e) => e.record.stream === 'stderr');
    assert.deepEqual(
      stderr.map((e) => e.record.log),
      [
        'Traceback (most recent call last):\n  File "/app/worker.py", line 42, in run\n    result = handle(job, retries=3, timeout=10)\n  File "/app/worker.py", line 17, in handle\n    return job["payload"]["id"]\nKeyError: \'id\'',
        'panic: runtime error: index out of range [5] with length 3\n\ngoroutine 1 [running]:\nmain.lookup(...)\n\t/app/main.go:12\nmain.main()\n\t/app/main.go:20 +0x1d',
        'exit status 2',
      ],
    );
    assert.equal(stderr[0]!.time, criTime(f, 1));
    assert.equal(stderr[1]!.time, criTime(f, 10));
  });
});

describe('structured data from a multiline message (the multiline-parsing page)', () => {
  it('the joined trace parsed with a /m regex gives what Fluent Bit printed', () => {
    const r = new ParserRegistry();
    const docs = doc.cases.find((x) => x.name === 'docs-regex-test')!;
    const conf = readClassicSpecs(
      docs.parsers + '[PARSER]\n  Name named-capture-test\n  Format regex\n  Regex /^(?<date>[a-zA-Z]+ \\d+ \\d+\\:\\d+\\:\\d+) (?<message>.*)/m\n',
      'parsers.conf',
    );
    for (const spec of conf.multilineParsers) assert.deepEqual(r.defineMultiline(spec), []);
    for (const spec of conf.parsers) assert.deepEqual(r.define(spec), []);
    const joiner = new MultilineJoiner<number>([r.multilineParser('multiline-regex-test')!]);
    const out: MultilineEntry<number>[] = [];
    lines(docs.files[0]!).forEach((l, i) => joiner.appendText('f', l, undefined, i, i, out));
    joiner.flushAll(out);
    const parser = r.parser('named-capture-test')!;
    // The parser filter: a record whose `log` the parser matches becomes the parsed record.
    const records = out.map((e) => parser.parse(String(e.record.log))?.record ?? e.record);
    const expected = readFileSync(join(dir, 'docs', 'structured-data.fluent-bit.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown);
    assert.deepEqual(records, expected);
  });
});

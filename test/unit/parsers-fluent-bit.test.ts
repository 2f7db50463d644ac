/**
 * Every parser case of test/fixtures/parsers/cases/*.json against what Fluent Bit 5.1.1 printed for
 * the same parser definition and lines (captured with test/fixtures/parsers/capture-fluent-bit.mjs):
 * the same records, keys in the same order, and the same times.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ParserRegistry, type ParserSpec } from '../../src/parsers/registry.js';
import { stockParsersFile } from '../../src/parsers/stock.js';
import { readClassicFile } from '../fixtures/parsers/classic-specs.js';

const dir = join(import.meta.dirname, '..', 'fixtures', 'parsers', 'cases');

interface Case {
  parser: string;
  stock?: boolean;
  env?: Record<string, string>;
  parsers?: { name: string; entries: [string, string][] }[];
  lines: string[];
  fluentBit: ({ unmatched: true } | { record: Record<string, unknown>; time: string })[];
}

function registryFor(c: Case): ParserRegistry {
  const registry = new ParserRegistry();
  const specs: ParserSpec[] = c.stock
    ? readClassicFile(stockParsersFile()).parsers
    : c.parsers!.map((p, i) => ({
        file: 'test.conf',
        line: i * 100 + 1,
        entries: [['name', p.name], ...p.entries].map(([key, value], j) => ({ key: key!.toLowerCase(), value: value!, line: i * 100 + j + 2 })),
      }));
  for (const spec of specs) assert.deepEqual(registry.define(spec), [], `${c.parser}: the definition loads`);
  return registry;
}

/** Fluent Bit reads a fraction through a double and may land 1 ns low; floki keeps the digits. */
function throughDouble(ns: bigint): bigint {
  const seconds = ns / 1_000_000_000n;
  const frac = ns % 1_000_000_000n;
  const viaDouble = Math.trunc(Number.parseFloat('0.' + frac.toString().padStart(9, '0')) * 1e9);
  return seconds * 1_000_000_000n + BigInt(viaDouble);
}

/** A format without a year takes the current one: compare everything but the year. */
function sameButYear(a: bigint, b: bigint): boolean {
  const iso = (t: bigint) => new Date(Number(t / 1_000_000n)).toISOString();
  return iso(a).slice(4) === iso(b).slice(4) && new Date(Number(a / 1_000_000n)).getUTCFullYear() === new Date().getUTCFullYear();
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

const YEARLESS = new Set(['r7', 'syslog-rfc3164-local', 'syslog-rfc3164']);

for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
  const doc = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { cases: Case[] };
  describe(`parsers against Fluent Bit 5.1.1: ${file}`, () => {
    for (const c of doc.cases) {
      it(`${c.parser}: ${c.lines.length} line(s) as Fluent Bit parses them`, () => {
        withEnv(c.env, () => {
          const parser = registryFor(c).parser(c.parser);
          assert.ok(parser, `parser ${c.parser} is defined`);
          c.lines.forEach((line, i) => {
            const expected = c.fluentBit[i]!;
            const got = parser.parse(line);
            const what = `${c.parser} line ${i + 1}: ${JSON.stringify(line)}`;
            if ('unmatched' in expected) {
              assert.equal(got, undefined, `${what} does not match`);
              return;
            }
            assert.ok(got, `${what} matches`);
            assert.deepEqual(got.record, expected.record, `${what}: record`);
            assert.deepEqual(Object.keys(got.record), Object.keys(expected.record), `${what}: key order`);
            if (expected.time === 'now') assert.equal(got.time, undefined, `${what}: no time (the event keeps its own)`);
            else {
              assert.ok(got.time !== undefined, `${what}: has a time`);
              const fb = BigInt(expected.time);
              if (YEARLESS.has(c.parser)) assert.ok(sameButYear(got.time, fb), `${what}: ${got.time} vs ${fb}`);
              else assert.equal(throughDouble(got.time), fb, `${what}: time ${got.time} (Fluent Bit ${fb})`);
            }
          });
        });
      });
    }
  });
}

describe('times keep every nanosecond', () => {
  it('a fraction Fluent Bit rounds down through a double is kept exactly', () => {
    const doc = JSON.parse(readFileSync(join(dir, 'regex.json'), 'utf8')) as { cases: Case[] };
    const c = doc.cases.find((x) => x.parser === 'r9')!;
    const line = '2024-01-02 03:04:05.001971831 e';
    const i = c.lines.indexOf(line);
    assert.ok(i >= 0);
    const got = registryFor(c).parser('r9')!.parse(line)!;
    assert.equal(got.time, 1704144845001971831n);
    assert.equal((c.fluentBit[i] as { time: string }).time, '1704144845001971830', 'Fluent Bit lost a nanosecond');
  });
});

/**
 * Every case in test/fixtures/filters/<filter>/<case>.yaml, run through floki, gives the records that
 * Fluent Bit 5.1.1 printed for it (kept beside the case by capture.ts), in order, with their tags, key
 * order and value types; a config Fluent Bit refused, floki refuses too. A case that is an example of
 * a documentation page also gives the records the page prints.
 *
 * Where floki deliberately differs (a case's `floki_differs`), it gives the case's `floki_output` instead.
 * Records are compared as JSON values: Fluent Bit prints `5.0` for a float and floki (JavaScript
 * numbers) `5`, and escapes non-ASCII characters where floki does not; see the fixtures' README.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../src/package-root.js';
import { readCapturedOutput, readFilterCase } from '../fixtures/filters/filter-case.js';
import { checkFilters, startFilters } from './filter-harness.js';

const ROOT = join(PACKAGE_ROOT, 'test/fixtures/filters');
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** A record as comparable text: key order kept, uuids (record_modifier's uuid_key) made equal. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'string' && UUID_V4.test(v) ? '<uuid v4>' : v));
}

const cases = readdirSync(ROOT, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((d) => readdirSync(join(ROOT, d.name)).filter((f) => f.endsWith('.yaml')).map((f) => join(ROOT, d.name, f)));

test('there are Fluent Bit cases for every filter', () => {
  const filters = new Set(cases.map((f) => f.split('/').at(-2)));
  for (const name of ['grep', 'modify', 'record_modifier', 'nest', 'rewrite_tag', 'throttle', 'type_converter', 'parser', 'multiline']) assert.ok(filters.has(name), name);
});

for (const file of cases) {
  const c = readFilterCase(file);
  const id = file.slice(ROOT.length + 1, -'.yaml'.length);
  const captured = readCapturedOutput(file, c);
  test(`${id}: ${c.about}`, async (t) => {
    assert.ok(captured, `${id} has no Fluent Bit output: run test/fixtures/filters/capture.ts`);
    const sections = { ...(c.parsers ? { parsers: c.parsers } : {}), ...(c.multilineParsers ? { multiline_parsers: c.multilineParsers } : {}) };
    if (captured.error !== undefined) {
      const why = captured.error.trim().split('\n')[0];
      assert.throws(() => checkFilters(c.filters, sections), (err: Error) => !/unknown filter plugin/.test(err.message), `Fluent Bit refused this config (${why}); floki must too`);
      return;
    }
    const pipeline = await startFilters(c.filters, undefined, sections);
    t.after(() => pipeline.stop());
    const records = c.input.split('\n').filter((l) => l.trim().length > 0).map((l) => JSON.parse(l) as Record<string, unknown>);
    const times = records.map((_, i) => BigInt(i + 1));
    await pipeline.emit(c.tag, records);
    // What filters hold (multiline) goes out when they stop, as Fluent Bit flushes at exit.
    await pipeline.stop();
    const shown = (tag: string) => c.tags === undefined || c.tags.includes(tag);
    const byTag = (list: Array<{ tag: string; text: string }>) => {
      const groups: Record<string, string[]> = {};
      for (const r of list) if (shown(r.tag)) (groups[r.tag] ??= []).push(r.text);
      return groups;
    };
    const got = byTag(pipeline.out.map((e) => ({ tag: e.tag, text: canonical(e.record) })));
    const fluentBit = captured.records.map((r) => ({ tag: r.tag, record: JSON.parse(r.line) as Record<string, unknown> }));
    if (c.times) {
      // `@time`: a time Fluent Bit read from the record, or (from 2025 on: the cases use older times) the time its tail read
      // the line, which in floki is the record's own time (the probe emits 1, 2, … ns).
      const want = fluentBit.map((r, i) => {
        const iso = String(r.record['@time']);
        return Number(iso.slice(0, 4)) >= 2025 ? times[i]! : BigInt(Date.parse(iso)) * 1_000_000n + BigInt(iso.slice(23, 26)) * 1000n;
      });
      assert.deepEqual(pipeline.out.map((e) => (e.time < 1_000_000n ? e.time : (e.time / 1000n) * 1000n)), want, 'times');
      for (const r of fluentBit) delete r.record['@time'];
    }
    const want = byTag(fluentBit.map((r) => ({ tag: r.tag, text: canonical(r.record) })));
    if (c.flokiDiffers !== undefined) {
      // floki deliberately does otherwise here (the case says why, and so does the README).
      const floki = byTag(c.flokiOutput!.split('\n').filter((l) => l.trim().length > 0).map((l) => ({ tag: c.tag, text: canonical(JSON.parse(l)) })));
      assert.notDeepEqual(want, floki, `Fluent Bit's output differs from floki's (${c.flokiDiffers})`);
      assert.deepEqual(got, floki);
    } else assert.deepEqual(got, want);
    if (c.pageOutput !== undefined) {
      // The records the documentation page prints for its example (its `=>` hashes written as JSON).
      const pageTag = c.pageTag ?? c.tag;
      const page = c.pageOutput.split('\n').filter((l) => l.trim().length > 0).map((l) => canonical(JSON.parse(l)));
      assert.deepEqual(pipeline.out.filter((e) => e.tag === pageTag).map((e) => canonical(e.record)), page, 'the records the page prints');
    }
  });
}

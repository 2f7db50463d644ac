/**
 * Every JSON parse path keeps records within MAX_RECORD_NESTING (64) levels, the limit the forward
 * and http decoders apply: a deeper value is left unparsed (as text that is not JSON is) and counted.
 * Deeper records made structuredClone, printing and encoding throw further on (from ~2,000 levels).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mergeRecord, type MergeOptions, type MergeResult } from '../../src/filters/kubernetes/record-merge.js';
import { MAX_RECORD_NESTING, nestingExceeds } from '../../src/core/limits.js';
import { parseOneJsonValue, TOO_DEEP } from '../../src/parsers/formats/json-text.js';
import { ParserRegistry, type ParserSpec } from '../../src/parsers/registry.js';
import { parseExporterLine } from '../../src/filters/event_exporter/index.js';
import { runs } from '../helpers/fuzz.js';

/** A JSON object nested exactly `levels` deep (the object itself is level 1). */
const deepJson = (levels: number): string => '{"a":'.repeat(levels - 1) + '{}' + '}'.repeat(levels - 1);

function parser(entries: [string, string][]) {
  const r = new ParserRegistry();
  const spec: ParserSpec = { file: 'parsers.conf', line: 1, entries: [['name', 'p'], ...entries].map(([key, value], i) => ({ key: key!, value: value!, line: i + 1 })) };
  assert.deepEqual(r.define(spec), []);
  return r.parser('p')!;
}

describe('JSON nesting limit in every parse path', () => {
  it('parseOneJsonValue: 64 levels parse, 65 and 100,000 are TOO_DEEP (also with trailing text)', () => {
    assert.equal(MAX_RECORD_NESTING, 64);
    const ok = parseOneJsonValue(deepJson(64));
    assert.equal(typeof ok, 'object');
    assert.equal(nestingExceeds(ok), false);
    assert.equal(parseOneJsonValue(deepJson(65)), TOO_DEEP);
    assert.equal(parseOneJsonValue(deepJson(100_000)), TOO_DEEP);
    assert.equal(parseOneJsonValue(`${deepJson(65)} trailing text`), TOO_DEEP);
    assert.equal(parseOneJsonValue(deepJson(64), 63), TOO_DEEP, 'a value put under a key has one level less');
    assert.equal(parseOneJsonValue('[[["x"]]]', 3) === TOO_DEEP, false);
    assert.equal(parseOneJsonValue('not json'), undefined);
  });

  it('format json: a text deeper than a record may be does not match, counted in tooDeep', () => {
    const p = parser([['format', 'json']]);
    assert.equal(p.tooDeep, 0);
    assert.notEqual(p.parse(deepJson(64)), undefined);
    assert.equal(p.parse(`{"msg":"x","deep":${deepJson(64)}}`), undefined, '65 levels with the record itself');
    assert.equal(p.parse(deepJson(20_000)), undefined);
    assert.equal(p.tooDeep, 2);
    assert.deepEqual(p.parse('{"msg":"fine"}')?.record, { msg: 'fine' });
    assert.equal(p.tooDeep, 2);
  });

  it('decode_field_as json: a value deeper than 63 levels (64 with the record) stays a string, counted; the rest of the record is parsed', () => {
    const p = parser([
      ['format', 'regex'],
      ['regex', '^(?<level>\\w+) (?<payload>.*)$'],
      ['decode_field_as', 'json payload'],
    ]);
    const fits = p.parse(`info ${deepJson(63)}`)!;
    assert.equal(typeof fits.record.payload, 'object');
    assert.equal(nestingExceeds(fits.record), false);
    const deep = `{"x":${deepJson(5000)}}`;
    const r = p.parse(`warn ${deep}`)!;
    assert.deepEqual(r.record, { level: 'warn', payload: deep });
    assert.equal(p.parse(`warn ${deepJson(64)}`)!.record.payload, deepJson(64));
    assert.equal(p.tooDeep, 2);
  });

  it('decode_field json: keys added at the top may nest 64 levels with the record, not more', () => {
    const p = parser([
      ['format', 'json'],
      ['decode_field', 'json log'],
    ]);
    const fits = p.parse(JSON.stringify({ log: `{"b":${deepJson(63)}}` }))!;
    assert.equal(typeof fits.record.b, 'object');
    assert.equal(nestingExceeds(fits.record), false);
    const deep = `{"b":${deepJson(64)}}`;
    assert.deepEqual(p.parse(JSON.stringify({ log: deep }))!.record, { log: deep });
    assert.equal(p.tooDeep, 1);
  });

  describe('kubernetes merge_log', () => {
    const options = (o: Partial<MergeOptions>): MergeOptions => ({ mergeLog: true, mergeLogKey: undefined, mergeLogTrim: false, keepLog: true, mergeParser: undefined, ...o });
    const merge = (log: string, o: Partial<MergeOptions>, parserArg?: ReturnType<typeof parser>) => {
      const out: MergeResult = { record: {}, time: undefined };
      mergeRecord({ log }, undefined, undefined, parserArg, options(o), out);
      return out;
    };

    it('as JSON: a log deeper than a record may be is left alone and counted', () => {
      assert.equal(typeof merge(deepJson(64), {}).record.a, 'object');
      const deep = deepJson(10_000);
      const out = merge(deep, {});
      assert.deepEqual(out.record, { log: deep });
      assert.equal(out.tooDeep, 1);
    });

    it('under merge_log_key: one level less, since the map goes under a key', () => {
      const fits = merge(deepJson(63), { mergeLogKey: 'app' });
      assert.equal(typeof fits.record.app, 'object');
      assert.equal(nestingExceeds(fits.record), false);
      const out = merge(deepJson(64), { mergeLogKey: 'app' });
      assert.deepEqual(out.record, { log: deepJson(64) });
      assert.equal(out.tooDeep, 1);
    });

    it('with a parser (merge_parser or the pod annotation): the parser refuses, counted; under merge_log_key too', () => {
      const p = parser([['format', 'json']]);
      const out = merge(deepJson(3000), { mergeParser: p });
      assert.deepEqual(out.record, { log: deepJson(3000) });
      assert.equal(out.tooDeep, 1);
      const keyed = merge(deepJson(64), { mergeLogKey: 'app' }, p);
      assert.deepEqual(keyed.record, { log: deepJson(64) });
      assert.equal(keyed.tooDeep, 1);
    });
  });
});

describe('event_exporter: an exporter-looking line nested too deeply', () => {
  it('is not taken for an event (it stays the line it was)', () => {
    const event = (extra: string) => `{"type":"Normal","reason":"Started",${extra}"involvedObject":{"kind":"Pod","namespace":"default"}}`;
    assert.notEqual(parseExporterLine(event('')), undefined);
    assert.notEqual(parseExporterLine(event(`"deep":${deepJson(63)},`)), undefined);
    assert.equal(parseExporterLine(event(`"deep":${deepJson(64)},`)), undefined);
    assert.equal(parseExporterLine(event(`"deep":${deepJson(5000)},`)), undefined);
  });
});

describe('JSON nesting limit: property', () => {
  it('any mix of objects and arrays, any depth, trailing text or not: refused exactly when deeper than the limit, never throws', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: 1, max: 80 }), fc.integer({ min: 60, max: 3000 })), fc.integer(), fc.constantFrom('', ' ', ' tail', '\n'), (depth, pattern, tail) => {
        // Each level an object `{"k":…}` or an array `[…, 1]`, as the pattern's bits say.
        const opens = Array.from({ length: depth }, (_, i) => ((pattern >>> i % 31) & 1) === 1);
        let text = '0';
        for (let i = opens.length - 1; i >= 0; i--) text = opens[i] ? `{"k":${text}}` : `[${text},1]`;
        const value = parseOneJsonValue(text + tail);
        if (opens.length > MAX_RECORD_NESTING) assert.equal(value, TOO_DEEP);
        else assert.equal(nestingExceeds(value), false);
        const p = parser([['format', 'json']]);
        const r = p.parse(`{"x":${text}}${tail}`);
        assert.equal(r === undefined, opens.length + 1 > MAX_RECORD_NESTING);
        assert.equal(p.tooDeep, opens.length + 1 > MAX_RECORD_NESTING ? 1 : 0);
      }),
      runs(60),
    );
  });
});

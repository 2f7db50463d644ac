/**
 * Fluentd's parser formats and filter_parser rules. Expected values derived from:
 * - fluent/fluentd lib/fluent/plugin/parser_none.rb (`{message_key => text}`, default `message`);
 * - fluent-plugin-multi-format-parser (first `<pattern>` that parses wins);
 * - fluent/fluentd-kubernetes-daemonset docker-image/v1.19/debian-forward/plugins/parser_kubernetes.rb
 *   (CONF_FORMAT1 with /m, CONF_TIME_FORMAT "%m%d %H:%M:%S.%N", a RegexpParser: time not kept);
 * - fluent/fluent-plugin-parser-cri lib/fluent/plugin/parser_cri.rb (`split(/\s/, 4)`, record
 *   {stream, logtag, message} + time text (keep_time_key default true), time_format
 *   `%Y-%m-%dT%H:%M:%S.%L%z`, a nested parser with merge_cri_fields);
 * - fluent/fluentd lib/fluent/plugin/filter_parser.rb (`handle_parsed`: inject_key_prefix,
 *   hash_value_field, reserve_data as `record.merge(r)`; unmatched records to the error stream,
 *   passed on only with reserve_data; remove_key_name_field; reserve_time).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LogEvent } from '../../src/core/event.js';
import { ParserFilter } from '../../src/filters/parser/filter.js';
import { ParserRegistry, type ParserSpec } from '../../src/parsers/registry.js';
import { pluginContext, processSync } from '../helpers/plugin-context.js';

function spec(entries: [string, string][]): ParserSpec {
  return { file: 'fluent.conf', line: 1, entries: entries.map(([key, value], i) => ({ key, value, line: i + 2 })) };
}

function registry(...parsers: [string, string][][]): ParserRegistry {
  const r = new ParserRegistry();
  for (const p of parsers) assert.deepEqual(r.define(spec(p)), []);
  assert.deepEqual(r.validate(), []);
  return r;
}

test('format none: the whole text under message_key', () => {
  const r = registry([['name', 'n'], ['format', 'none']], [['name', 'm'], ['format', 'none'], ['message_key', 'log']]);
  assert.deepEqual(r.parser('n')!.parse('a "b" {c}'), { record: { message: 'a "b" {c}' }, time: undefined });
  assert.deepEqual(r.parser('m')!.parse('x')!.record, { log: 'x' });
});

test('format multi_format: the first parser that parses wins; none: not matched; unknown names refused', () => {
  const r = registry(
    [['name', 'j'], ['format', 'json']],
    [['name', 'kv'], ['format', 'regex'], ['regex', '^(?<k>\\w+)=(?<v>\\w+)$']],
    [['name', 'multi'], ['format', 'multi_format'], ['parsers', 'j, kv']],
  );
  const multi = r.parser('multi')!;
  assert.deepEqual(multi.parse('{"a":1}')!.record, { a: 1 });
  assert.deepEqual(multi.parse('x=y')!.record, { k: 'x', v: 'y' });
  assert.equal(multi.parse('nothing'), undefined);
  const bad = new ParserRegistry();
  bad.define(spec([['name', 'multi'], ['format', 'multi_format'], ['parsers', 'nope']]));
  assert.deepEqual(bad.validate(), [{ file: 'fluent.conf', line: 4, message: 'parser "multi": parsers: no parser named "nope"' }]);
});

test('format kubernetes: klog lines as the daemonset image parses them', () => {
  const r = registry([['name', 'k'], ['format', 'kubernetes']]);
  const line = 'I1202 10:13:00.123456    1234 server.go:42] Started\n  second line';
  const result = r.parser('k')!.parse(line)!;
  assert.deepEqual(result.record, { severity: 'I', pid: '1234', source: 'server.go:42', message: 'Started\n  second line' });
  const year = new Date().getFullYear();
  const expected = new Date(year, 11, 2, 10, 13, 0, 123).getTime();
  assert.equal(result.time !== undefined ? Number(result.time / 1_000_000n) : undefined, expected, 'this year, the system time zone');
  assert.equal(r.parser('k')!.parse('not klog'), undefined);
});

test('format cri: the record fluent-plugin-parser-cri makes, with and without a sub-parser', () => {
  const r = registry(
    [['name', 'cri'], ['format', 'cri']],
    [['name', 'j'], ['format', 'json']],
    [['name', 'cri_json'], ['format', 'cri'], ['sub_parser', 'j']],
    [['name', 'cri_nokeep'], ['format', 'cri'], ['time_keep', 'off'], ['merge_cri_fields', 'off'], ['sub_parser', 'j']],
  );
  const line = '2026-12-02T10:13:00.123456789Z stdout F hello  world ';
  assert.deepEqual(r.parser('cri')!.parse(line), {
    record: { stream: 'stdout', logtag: 'F', message: 'hello  world ', time: '2026-12-02T10:13:00.123456789Z' },
    time: 1_796_206_380_123_456_789n,
  });
  assert.equal(r.parser('cri')!.parse('2026-12-02T10:13:00Z stdout F'), undefined, 'three parts: not matched');
  assert.deepEqual(r.parser('cri')!.parse('2026-12-02T10:13:00.5Z stderr P ')!.record.message, '', 'an empty message is a fourth part');
  assert.equal(r.parser('cri')!.parse('yesterday stdout F x'), undefined, 'a time it cannot read: not parsed');
  assert.deepEqual(r.parser('cri_json')!.parse('2026-12-02T10:13:00.5Z stdout F {"a":1}')!.record, { a: 1, stream: 'stdout', logtag: 'F' });
  assert.deepEqual(r.parser('cri_nokeep')!.parse('2026-12-02T10:13:00.5Z stdout F {"a":1}')!.record, { a: 1 });
  assert.equal(r.parser('cri_json')!.parse('2026-12-02T10:13:00.5Z stdout F not json'), undefined);
});

const ev = (record: Record<string, unknown>): LogEvent => ({ tag: 't', time: 5n, record });

test('parser filter record_layout fluentd: reserve_data merges parsed values over the record, in its order', () => {
  const parsers = registry([['name', 'j'], ['format', 'json']]);
  const make = (o: Record<string, unknown>) => new ParserFilter({ key_name: 'log', parser: ['j'], record_layout: 'fluentd', ...o }, { ...pluginContext('parser.0'), parsers });
  const [a] = processSync(make({ reserve_data: true }), [ev({ a: 'old', log: '{"a":"new","b":2}', z: 1 })]);
  assert.deepEqual(a!.record, { a: 'new', log: '{"a":"new","b":2}', z: 1, b: 2 });
  assert.deepEqual(Object.keys(a!.record), ['a', 'log', 'z', 'b']);
  const [b] = processSync(make({ reserve_data: true, remove_key_name_field: true, inject_key_prefix: 'p_', hash_value_field: 'parsed' }), [ev({ log: '{"x":1}', k: 2 })]);
  assert.deepEqual(b!.record, { k: 2, parsed: { p_x: 1 } });
  assert.deepEqual(processSync(make({}), [ev({ log: 'not json' }), ev({ other: 1 }), ev({ log: '{"ok":1}' })]).map((e) => e.record), [{ ok: 1 }], 'not parsed, no key: dropped (Fluentd error stream)');
  assert.deepEqual(processSync(make({ reserve_data: true, hash_value_field: 'h' }), [ev({ log: 'not json' })]).map((e) => e.record), [{ log: 'not json', h: {} }]);
  const nested = new ParserFilter({ key_name: '$.kubernetes.log', parser: ['j'], record_layout: 'fluentd' }, { ...pluginContext('parser.1'), parsers });
  assert.deepEqual(processSync(nested, [ev({ kubernetes: { log: '{"n":1}' } })])[0]!.record, { n: 1 });
});

test('parser filter (fluent-bit layout): inject_key_prefix and hash_value_field apply to the parsed keys', () => {
  const parsers = registry([['name', 'j'], ['format', 'json']]);
  const f = new ParserFilter({ key_name: 'log', parser: ['j'], hash_value_field: 'h', inject_key_prefix: 'x.' }, { ...pluginContext('parser.0'), parsers });
  assert.deepEqual(processSync(f, [ev({ log: '{"a":1}' })])[0]!.record, { h: { 'x.a': 1 } });
});

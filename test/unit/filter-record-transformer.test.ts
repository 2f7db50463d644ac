/**
 * record_transformer: expected values derived from Fluentd's lib/fluent/plugin/filter_record_transformer.rb
 * (fluent/fluentd, v1.19 line): `reform` (record.dup or {} + keep_keys, then merge! of the expanded
 * map), `filter_stream` (renew_time_key via `Time.at(v.to_f)`, then remove_keys deleters),
 * `PlaceholderExpander#prepare_placeholders` (the placeholders that exist: tag, tag_parts[i] and
 * [i-size], tag_prefix, tag_suffix, hostname, time, record["k"]), `#expand` (auto_typecast: a lone
 * placeholder keeps its value; otherwise gsub with to_s, unknown → nil → ""), `#time_value`
 * (`Time.at(time).to_s`), `RubyPlaceholderExpander#preprocess_map`, `parse_value` (JSON values), and
 * configure's "`renew_record` must be true to use `keep_keys`". Record accessors for remove_keys from
 * lib/fluent/plugin_helper/record_accessor.rb.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import type { LogEvent } from '../../src/core/event.js';
import { RecordTransformerFilter, recordTransformerFilter } from '../../src/filters/record_transformer/index.js';
import { rubyTime, secondsToNs } from '../../src/filters/record_transformer/filter.js';
import { parseFluentdAccessor } from '../../src/filters/common/fluentd-accessor.js';
import { ParserRegistry } from '../../src/parsers/registry.js';
import { pluginContext, processSync } from '../helpers/plugin-context.js';
import { startFilters } from './filter-harness.js';
import { waitFor } from '../helpers/wait.js';

const TAG = 'kubernetes.var.log.containers.web';
const make = (options: Record<string, unknown>) => new RecordTransformerFilter({ auto_typecast: true, ...options }, pluginContext('record_transformer.0'));
const one = (filter: RecordTransformerFilter, record: Record<string, unknown>, tag = TAG, time = 1_700_000_000_000_000_000n): LogEvent[] =>
  processSync(filter, [{ tag, time, record }]);

test('the placeholders of the non-Ruby expander: tag, tag_parts (negative too), tag_prefix, tag_suffix, hostname, record["k"]', () => {
  const f = make({
    record: {
      t: '${tag}',
      first: '${tag_parts[0]}',
      last: '${tag_parts[-1]}',
      prefix: '${tag_prefix[1]}',
      suffix: '${tag_suffix[3]}',
      host: '${hostname}',
      level: '${record["level"]}',
      text: 'pod ${tag_parts[4]} said ${record["n"]}',
    },
  });
  const [e] = one(f, { level: 'info', n: 7 });
  assert.deepEqual(e!.record, {
    level: 'info',
    n: 7,
    t: TAG,
    first: 'kubernetes',
    last: 'web',
    prefix: 'kubernetes.var',
    suffix: 'containers.web',
    host: hostname(),
    text: 'pod web said 7',
  });
});

test('auto_typecast: a lone placeholder keeps its type; in text it is to_s; unknown placeholders give nil / nothing', () => {
  const f = make({ record: { n: '${record["n"]}', m: '${record["map"]}', s: 'n=${record["n"]}', nested: '${record["a"]["b"]}', plain: '${n}', missing: 'x${record["nope"]}y' } });
  const [e] = one(f, { n: 7, map: { k: 'v' }, a: { b: 1 } });
  assert.equal(e!.record.n, 7);
  assert.deepEqual(e!.record.m, { k: 'v' });
  assert.equal(e!.record.s, 'n=7');
  assert.equal(e!.record.nested, null, 'nested lookups exist only with enable_ruby');
  assert.equal(e!.record.plain, null, '${key} is not a placeholder of Fluentd v1');
  assert.equal(e!.record.missing, 'xy');
  const noCast = make({ auto_typecast: false, record: { n: '${record["n"]}' } });
  assert.equal(one(noCast, { n: 7 })[0]!.record.n, '7');
});

test('merge!: an existing key keeps its place; renew_record with keep_keys; remove_keys with accessors', () => {
  const f = make({ record: { b: 'new', z: 'last' }, remove_keys: ['$.kubernetes.labels', 'drop'] });
  const [e] = one(f, { a: 1, b: 2, drop: 3, kubernetes: { pod: 'p', labels: { app: 'x' } } });
  assert.deepEqual(Object.keys(e!.record), ['a', 'b', 'kubernetes', 'z']);
  assert.equal(e!.record.b, 'new');
  assert.deepEqual(e!.record.kubernetes, { pod: 'p' });
  const renew = make({ renew_record: true, keep_keys: ['log', 'absent'], record: { tag: '${tag}' } });
  assert.deepEqual(one(renew, { log: 'x', other: 1 })[0]!.record, { log: 'x', tag: TAG });
  assert.throws(() => recordTransformerFilter.check!({ keep_keys: ['a'] }, { parsers: new ParserRegistry() }), /keep_keys: `renew_record` must be true/);
});

test('JSON values and keys with placeholders', () => {
  const f = make({ record: { '${tag_parts[0]}_meta': '{"tag":"${tag}","n":1,"list":["${tag_parts[1]}"]}' } });
  assert.deepEqual(one(f, {})[0]!.record, { kubernetes_meta: { tag: TAG, n: 1, list: ['var'] } });
});

test('renew_time_key: Time.at(value.to_f); the key may then be removed', () => {
  const f = make({ renew_time_key: 'ts', remove_keys: ['ts'] });
  const [e] = one(f, { ts: '1700000000.5', log: 'x' });
  assert.equal(e!.time, 1_700_000_000_500_000_000n);
  assert.deepEqual(e!.record, { log: 'x' });
  assert.equal(secondsToNs('abc', 'ts'), 0n, 'String#to_f of a non-number is 0.0');
  assert.equal(secondsToNs(12, 'ts'), 12_000_000_000n);
});

test('${time} is Time.at(time).to_s', () => {
  const f = make({ record: { at: '${time}' } });
  const [e] = one(f, {}, TAG, 1_700_000_000_000_000_000n);
  assert.equal(e!.record.at, rubyTime(1_700_000_000_000_000_000n));
  assert.match(String(e!.record.at), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}$/);
  if (new Date(0).getTimezoneOffset() === 0) assert.equal(e!.record.at, '2023-11-14 22:13:20 +0000');
});

test('enable_ruby: lookups are accepted, any other expression refused at load naming the template', () => {
  const f = make({
    enable_ruby: true,
    record: { b: '${record["a"]["b"]}', d: "${record.dig('a', 'c', 0)}", t: 'x-${tag_parts[-1]}-${record["a"]["b"]}', tag: '${tag}' },
  });
  const [e] = one(f, { a: { b: 5, c: ['z'] } });
  assert.deepEqual(e!.record, { a: { b: 5, c: ['z'] }, b: 5, d: 'z', t: 'x-web-5', tag: TAG });
  // nil["b"] raises in Ruby: Fluentd sends the event to its error stream; floki drops it.
  assert.equal(processSync(f, [{ tag: TAG, time: 1n, record: {} }]).length, 0);
  for (const bad of ['${record["log"].upcase}', '${Time.now}', '${`rm -rf /`}', '${record["a"] || "x"}']) {
    assert.throws(
      () => recordTransformerFilter.check!({ enable_ruby: true, record: { k: bad } }, { parsers: new ParserRegistry() }),
      (err: Error) => err.message.includes(bad) && /not a lookup floki can run/.test(err.message),
      bad,
    );
  }
});

test('Fluentd record accessors', () => {
  assert.deepEqual(parseFluentdAccessor('$.a.b[0]'), ['a', 'b', 0]);
  assert.deepEqual(parseFluentdAccessor("$['a.b'][1][\"c\"]"), ['a.b', 1, 'c']);
  assert.deepEqual(parseFluentdAccessor('a.b'), ['a.b']);
  assert.throws(() => parseFluentdAccessor("$['a\"]"), /Mismatched quotes/);
});

test('through the engine: records come out transformed, in order', async (t) => {
  const p = await startFilters([{ name: 'record_transformer', match: '*', record: { pod: '${tag_parts[1]}', copy: '${record["log"]}' }, remove_keys: 'stream' }]);
  t.after(() => p.stop());
  await p.emit('kube.web-0', [{ log: 'a', stream: 'stdout' }, { log: 'b', stream: 'stderr' }]);
  await waitFor(() => p.out.length === 2, 'two events');
  assert.deepEqual(p.out.map((e) => e.record), [
    { log: 'a', pod: 'web-0', copy: 'a' },
    { log: 'b', pod: 'web-0', copy: 'b' },
  ]);
});

test('property: any template text compiles and expands without throwing (non-Ruby expander)', async () => {
  const fc = (await import('fast-check')).default;
  const { runs } = await import('../helpers/fuzz.js');
  fc.assert(
    fc.property(fc.string({ maxLength: 40 }), fc.jsonValue({ maxDepth: 2 }), (template, value) => {
      const f = make({ record: { out: template } });
      const [e] = one(f, { v: value });
      assert.ok(Object.hasOwn(e!.record, 'out'));
    }),
    runs(200),
  );
});

test('remove_keys with a nested accessor copies the maps on its way: a map other records share is left alone', () => {
  const shared = { pod: 'p', labels: { app: 'x' } };
  const f = make({ remove_keys: ['$.kubernetes.labels.app'] });
  const [a, b] = processSync(f, [
    { tag: TAG, time: 1n, record: { kubernetes: shared } },
    { tag: TAG, time: 2n, record: { kubernetes: shared } },
  ]);
  assert.deepEqual(a!.record.kubernetes, { pod: 'p', labels: {} });
  assert.deepEqual(b!.record.kubernetes, { pod: 'p', labels: {} });
  assert.deepEqual(shared, { pod: 'p', labels: { app: 'x' } }, 'the shared map is unchanged');
  const [c] = processSync(make({ remove_keys: ['$.kubernetes.nope.deeper'] }), [{ tag: TAG, time: 1n, record: { kubernetes: shared } }]);
  assert.equal(c!.record.kubernetes, shared, 'nothing to delete: nothing copied');
});

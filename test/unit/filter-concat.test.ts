/**
 * concat: expected values derived from fluent-plugin-concat's lib/fluent/plugin/filter_concat.rb
 * (fluent-plugins-nursery/fluent-plugin-concat, v2.6 line): `configure` (its ConfigError messages),
 * `filter_stream` (records without key pass; `record.merge(new_record)`; partial_cri deletes the logtag
 * and stream keys), `process_line`, `process_partial`, `process_partial_cri` (`split(":")[0] == "F"`),
 * `process_regexp` (first/last/continuous rules), `flush_buffer` (the first record with key joined by
 * separator), `flush_timeout_buffer` / `handle_timeout_error` (flush_interval; to the error stream
 * without timeout_label); the configure messages and the n_lines case match the plugin's own
 * test/plugin/test_filter_concat.rb ("lines" / "config" sub_test_cases).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LogEvent } from '../../src/core/event.js';
import type { FilterContext, FilterFlow, Hold } from '../../src/core/plugin.js';
import { ConcatFilter } from '../../src/filters/concat/filter.js';
import { concatFilter } from '../../src/filters/concat/index.js';
import { Metrics } from '../../src/observability/metrics.js';
import { ParserRegistry } from '../../src/parsers/registry.js';
import { pluginContext } from '../helpers/plugin-context.js';
import { waitFor } from '../helpers/wait.js';
import { startFilters } from './filter-harness.js';
import fc from 'fast-check';
import { runs } from '../helpers/fuzz.js';


class Rig {
  readonly passed: LogEvent[] = [];
  readonly holds: { released: boolean }[] = [];
  readonly metrics = new Metrics();
  readonly filter: ConcatFilter;
  private t = 0n;
  constructor(options: Record<string, unknown>) {
    const ctx: FilterContext = {
      ...pluginContext('concat.0', this.metrics),
      pass: async (events: LogEvent[], holds: readonly Hold[]) => {
        this.passed.push(...events);
        for (const h of holds) h.release();
      },
      emit: async () => assert.fail('concat never emits from the start'),
    };
    this.filter = new ConcatFilter(options, ctx);
  }
  flow(): FilterFlow {
    return {
      hold: () => {
        const h = { released: false };
        this.holds.push(h);
        return { release: () => void (h.released = true) };
      },
    };
  }
  run(records: Record<string, unknown>[], tag = 'app'): LogEvent[] {
    return this.filter.process(
      records.map((record) => ({ tag, time: ++this.t, record })),
      this.flow(),
    ) as LogEvent[];
  }
}

const lines = (events: LogEvent[], key = 'message') => events.map((e) => e.record[key]);

test('n_lines: every n records of a stream become one, joined by separator, the first record merged into the last', () => {
  const rig = new Rig({ key: 'message', n_lines: 3 });
  assert.deepEqual(rig.run([{ host: 'a', message: 'm1' }, { host: 'b', message: 'm2' }]), []);
  const out = rig.run([{ host: 'c', message: 'm3', extra: 1 }]);
  assert.deepEqual(rig.passed.map((e) => e.record), [{ host: 'a', message: 'm1\nm2\nm3', extra: 1 }], 'entry of earlier batches: passed on');
  assert.deepEqual(out, []);
  assert.equal(rig.passed[0]!.time, 3n, "the completing record's time");
  assert.ok(rig.holds.every((h) => h.released), 'the held batches settle with the entry');
  assert.deepEqual(lines(rig.run([{ message: 'x' }, { message: 'y' }, { message: 'z' }, { other: 1 }])), ['x\ny\nz', undefined], 'one batch: returned in place; no key: passes');
});

test('multiline_start_regexp with continuous_line_regexp (the plugin README example)', () => {
  const rig = new Rig({ key: 'message', multiline_start_regexp: '/^Start/', continuous_line_regexp: '/^  /', separator: '' });
  const out = rig.run([{ message: 'Start a' }, { message: '  b' }, { message: 'other' }, { message: 'Start c' }, { message: 'Start d' }]);
  assert.deepEqual(lines(out), ['Start a  b', 'other', 'Start c']);
  const rig2 = new Rig({ key: 'message', multiline_start_regexp: '/^Start/' });
  assert.deepEqual(lines(rig2.run([{ message: 'lonely' }])), ['lonely'], 'nothing started: passes as it is');
});

test('multiline_end_regexp alone: lines gather until the end line', () => {
  const rig = new Rig({ key: 'message', multiline_end_regexp: '/\\.$/', use_first_timestamp: true });
  const out = rig.run([{ message: 'a' }, { message: 'b' }, { message: 'c.' }, { message: 'd.' }]);
  assert.deepEqual(lines(out), ['a\nb\nc.', 'd.']);
  assert.deepEqual(out.map((e) => e.time), [1n, 4n], 'use_first_timestamp');
});

test('use_partial_cri_logtag: P lines join until F; logtag and stream keys dropped; per stream with stream_identity_key', () => {
  const rig = new Rig({ key: 'log', use_partial_cri_logtag: true, partial_cri_logtag_key: 'logtag', partial_cri_stream_key: 'stream', stream_identity_key: 'stream' });
  const out = rig.run([
    { stream: 'stdout', logtag: 'P', log: 'a' },
    { stream: 'stderr', logtag: 'F', log: 'err' },
    { stream: 'stdout', logtag: 'P', log: 'b' },
    { stream: 'stdout', logtag: 'F', log: 'c' },
  ]);
  assert.deepEqual(out.map((e) => e.record), [{ log: 'err' }, { log: 'abc'.split('').join('\n') }]);
  const keep = new Rig({ key: 'log', use_partial_cri_logtag: true, partial_cri_logtag_key: 'logtag', keep_partial_key: true, separator: '' });
  assert.deepEqual(keep.run([{ stream: 'stdout', logtag: 'P', log: 'x' }, { stream: 'stdout', logtag: 'F', log: 'y' }]).map((e) => e.record), [{ logtag: 'F', log: 'xy' }]);
});

test('partial_key / partial_value: join while partial; partial_key dropped unless kept', () => {
  const rig = new Rig({ key: 'message', partial_key: 'partial_message', partial_value: 'true', separator: '' });
  const out = rig.run([{ message: 'a', partial_message: 'true' }, { message: 'b', partial_message: 'true' }, { message: 'c', partial_message: 'false' }, { message: 'no key' }]);
  assert.deepEqual(out.map((e) => e.record), [{ message: 'abc' }, { message: 'no key' }]);
});

test('use_partial_metadata: parts joined by partial_id, in partial_ordinal order, until partial_last "true"; the metadata keys dropped', () => {
  const rig = new Rig({ key: 'log', use_partial_metadata: true, separator: '' });
  const part = (id: string, ordinal: string, last: string, log: string) => ({ container_id: 'c', partial_message: 'true', partial_id: id, partial_ordinal: ordinal, partial_last: last, log });
  const out = rig.run([part('a', '2', 'false', 'B'), part('b', '1', 'true', 'other'), { log: 'whole', container_id: 'c' }, part('a', '1', 'false', 'A'), part('a', '3', 'true', 'C')]);
  assert.deepEqual(out.map((e) => e.record), [{ container_id: 'c', log: 'other' }, { log: 'whole', container_id: 'c' }, { container_id: 'c', log: 'ABC' }]);
  const keep = new Rig({ key: 'log', use_partial_metadata: true, keep_partial_metadata: true, partial_metadata_format: 'docker-journald' });
  const [e] = keep.run([{ CONTAINER_PARTIAL_ID: 'x', CONTAINER_PARTIAL_ORDINAL: '1', CONTAINER_PARTIAL_LAST: 'true', log: 'j' }]);
  assert.deepEqual(e!.record, { CONTAINER_PARTIAL_ID: 'x', CONTAINER_PARTIAL_ORDINAL: '1', CONTAINER_PARTIAL_LAST: 'true', log: 'j' }, 'journald: the id marks a part');
  assert.throws(() => concatFilter.check!({ key: 'log', use_partial_metadata: true, n_lines: 2 }, { parsers: new ParserRegistry() }), /use_partial_metadata and n_lines are exclusive/);
});

test('flush_interval: an unfinished entry is dropped (Fluentd error stream) by default, sent on with timeout_action pass', async () => {
  for (const action of ['error', 'pass']) {
    const rig = new Rig({ key: 'message', multiline_start_regexp: '/^S/', flush_interval: 0.2, timeout_action: action });
    assert.deepEqual(rig.run([{ message: 'S1' }, { message: 'more' }]), []);
    await waitFor(() => rig.holds.every((h) => h.released), 'the entry flushed by the timer');
    if (action === 'pass') assert.deepEqual(lines(rig.passed), ['S1\nmore']);
    else assert.deepEqual(rig.passed, []);
    assert.equal(await rig.metrics.value('floki_filter_concat_flushed_entries_total', { reason: 'timeout', action }), 1);
    await rig.filter.stop();
  }
});

test('stop: held entries go the way timeouts do', async () => {
  const rig = new Rig({ key: 'message', n_lines: 5, timeout_action: 'pass' });
  rig.run([{ message: 'a' }]);
  await rig.filter.stop();
  assert.deepEqual(lines(rig.passed), ['a']);
  assert.ok(rig.holds.every((h) => h.released));
});

test('what is held is bounded: past buffer_limit_size the entry goes on early', () => {
  const rig = new Rig({ key: 'message', multiline_start_regexp: '/^S/', buffer_limit_size: 100 });
  const out = rig.run([{ message: 'S' }, ...Array.from({ length: 20 }, () => ({ message: 'x'.repeat(20) }))]);
  assert.ok(out.length >= 3, `flushed early: ${out.length}`);
  assert.equal(out.map((e) => String(e.record.message)).join('\n').split('\n').length, 21, 'no line lost');
});

test("configure's checks, with the plugin's messages", () => {
  const check = (o: Record<string, unknown>) => concatFilter.check!(o, { parsers: new ParserRegistry() });
  assert.throws(() => check({ key: 'm' }), /Either n_lines, multiline_start_regexp, multiline_end_regexp, partial_key, use_partial_metadata or use_partial_cri_logtag is required/);
  assert.throws(() => check({ key: 'm', n_lines: 2, multiline_start_regexp: '/a/' }), /n_lines and multiline_start_regexp\/multiline_end_regexp are exclusive/);
  assert.throws(() => check({ key: 'm', partial_key: 'p' }), /partial_value is required/);
  assert.throws(() => check({ key: 'm', n_lines: 2, timeout_label: '@NORMAL' }), /timeout_label/);
  check({ key: 'm', n_lines: 2, timeout_label: '' });
});

test('through the engine: CRI partial lines across batches become one record, in order', async (t) => {
  const p = await startFilters([{ name: 'concat', match: '*', key: 'log', use_partial_cri_logtag: true, partial_cri_logtag_key: 'logtag', separator: '' }]);
  t.after(() => p.stop());
  await p.emit('kube.a', [{ logtag: 'F', log: 'one', stream: 'stdout' }, { logtag: 'P', log: 'tw', stream: 'stdout' }]);
  await p.emit('kube.a', [{ logtag: 'F', log: 'o', stream: 'stdout' }]);
  await waitFor(() => p.out.length === 2, 'two records');
  assert.deepEqual(p.out.map((e) => e.record), [{ log: 'one' }, { log: 'two' }]);
  // An entry of an earlier batch (passed on) still comes before the records returned after it.
  await p.emit('kube.a', [{ logtag: 'P', log: 'fo' }]);
  await p.emit('kube.a', [{ logtag: 'F', log: 'ur' }, { logtag: 'F', log: 'five' }]);
  await waitFor(() => p.out.length === 4, 'four records');
  assert.deepEqual(p.out.slice(2).map((e) => e.record.log), ['four', 'five']);
});

test('property: whatever the batches, no line is lost or repeated, lines stay in order, every held batch settles', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.record({ stream: fc.constantFrom('stdout', 'stderr'), logtag: fc.constantFrom('P', 'F', 'F:x', 'P:y') }), { maxLength: 60 }),
      fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 20 }),
      async (records, sizes) => {
        const rig = new Rig({ key: 'log', use_partial_cri_logtag: true, partial_cri_logtag_key: 'logtag', stream_identity_key: 'stream', separator: '', timeout_action: 'pass', buffer_limit_size: 200 });
        const input = records.map((r, n) => ({ ...r, log: `<${n}>` }));
        const got: LogEvent[] = [];
        let i = 0;
        for (let b = 0; i < input.length; b++) {
          const n = sizes[b % sizes.length]!;
          got.push(...rig.run(input.slice(i, i + n).map((r) => ({ ...r }))));
          i += n;
        }
        await rig.filter.stop();
        const tokens = [...got, ...rig.passed].flatMap((e) => String(e.record.log).match(/<\d+>/g) ?? []);
        assert.deepEqual([...tokens].sort(), input.map((r) => r.log).sort(), 'each line once');
        for (const e of [...got, ...rig.passed]) {
          const n = (String(e.record.log).match(/\d+/g) ?? []).map(Number);
          assert.deepEqual(n, [...n].sort((a, b) => a - b), 'in order within an entry');
          assert.ok(n.every((k) => input[k]!.stream === input[n[0]!]!.stream), 'one stream per entry');
        }
        assert.ok(rig.holds.every((h) => h.released), 'every held batch settled');
      },
    ),
    runs(100),
  );
});

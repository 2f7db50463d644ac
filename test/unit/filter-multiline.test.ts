/**
 * The multiline filter's own promises, beyond the Fluent Bit cases of test/fixtures/filters/multiline:
 * a trace split over two batches is one entry; an unfinished one goes on after flush_ms, never lost
 * and never held past it; the records it holds keep their emit open until the entry they ended up in
 * settles; what it holds is bounded; bad input (huge lines, hostile lines, random records) costs
 * nobody else anything. Driven directly, with a context that records what is passed on.
 */
import { describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { LogEvent } from '../../src/core/event.js';
import type { FilterContext, FilterFlow, Hold } from '../../src/core/plugin.js';
import { MultilineFilter } from '../../src/filters/multiline/filter.js';
import { multilineFilter } from '../../src/filters/multiline/index.js';
import { Metrics } from '../../src/observability/metrics.js';
import { ParserRegistry } from '../../src/parsers/registry.js';
import { runs } from '../helpers/fuzz.js';
import { pluginContext } from '../helpers/plugin-context.js';
import { waitFor } from '../helpers/wait.js';
import { startFilters } from './filter-harness.js';

/** A filter with a context whose `pass` records the events and the holds that came with them. */
class Rig {
  readonly passed: { events: LogEvent[]; holds: readonly Hold[]; atMs: number }[] = [];
  /** Everything that left the filter, in the order it did: passed on (at once) and returned. */
  readonly out: LogEvent[] = [];
  /** Holds taken through the flows given to process(), with whether they were released. */
  readonly flowHolds: { released: boolean }[] = [];
  readonly metrics = new Metrics();
  readonly filter: MultilineFilter;
  /** Settle what is passed on at once (as an output that delivered it). */
  settleAtOnce = true;

  constructor(options: Record<string, unknown>, registry = new ParserRegistry()) {
    const ctx: FilterContext = {
      ...pluginContext('multiline.0', this.metrics),
      parsers: registry,
      pass: async (events, holds) => {
        this.passed.push({ events, holds, atMs: performance.now() });
        this.out.push(...events);
        if (this.settleAtOnce) for (const h of holds) h.release();
      },
      emit: async () => assert.fail('the multiline filter never emits from the start of the pipeline'),
    };
    this.filter = new MultilineFilter(options, ctx);
  }

  flow(): FilterFlow & { taken: { released: boolean }[] } {
    const taken: { released: boolean }[] = [];
    return {
      taken,
      hold: () => {
        const h = { released: false };
        taken.push(h);
        this.flowHolds.push(h);
        return { release: () => void (h.released = true) };
      },
    };
  }

  /** Events returned at once plus those passed on so far, in that order per call. */
  process(events: LogEvent[], flow = this.flow()): LogEvent[] {
    const returned = this.filter.process(events, flow);
    this.out.push(...returned);
    return returned;
  }

  passedEvents(): LogEvent[] {
    return this.passed.flatMap((p) => p.events);
  }
}

let clock = 1_000_000_000_000n;
const ev = (log: unknown, extra: Record<string, unknown> = {}, tag = 'app'): LogEvent => ({ tag, time: (clock += 1000n), record: { log, ...extra } });
const logs = (events: LogEvent[]) => events.map((e) => e.record.log);

const JAVA = [
  'java.lang.IllegalStateException: Failed to process order 42',
  '\tat com.example.demo.OrderService.process(OrderService.java:57)',
  'Caused by: java.sql.SQLException: Connection refused',
  '\tat com.example.demo.Db.connect(Db.java:12)',
  '\t... 2 more',
];

describe('parser mode', () => {
  it('a trace split over two batches is one entry with its first line time; both emits stay open until it settles', async () => {
    const rig = new Rig({ 'multiline.parser': ['java'], 'multiline.key_content': 'log' });
    rig.settleAtOnce = false;
    const first = [ev('started'), ev(JAVA[0]), ev(JAVA[1])];
    const flow1 = rig.flow();
    assert.deepEqual(logs(rig.process(first, flow1)), ['started'], 'the line before the trace goes on at once, the trace is held');
    assert.equal(flow1.taken.length, 1, 'one hold for the batch');
    const flow2 = rig.flow();
    const second = [ev(JAVA[2]), ev(JAVA[3]), ev(JAVA[4]), ev('next line')];
    assert.deepEqual(logs(rig.process(second, flow2)), ['next line']);
    assert.equal(rig.passed.length, 1, 'the trace went on when the next line ended it');
    const [entry] = rig.passed[0]!.events;
    assert.equal(entry!.record.log, JAVA.join('\n'));
    assert.equal(entry!.time, first[1]!.time, "the first line's time");
    assert.equal(flow1.taken[0]!.released, false, 'the first emit stays open while the entry is not delivered');
    assert.equal(flow2.taken[0]!.released, false);
    for (const h of rig.passed[0]!.holds) h.release();
    assert.equal(flow1.taken[0]!.released, true, 'settled with the entry');
    assert.equal(flow2.taken[0]!.released, true);
    assert.equal(await rig.metrics.value('floki_filter_multiline_entries_total', { name: 'multiline.0' }), 3);
  });

  it('an entry made of one batch needs no hold: it goes on with the batch', () => {
    const rig = new Rig({ 'multiline.parser': ['java'], 'multiline.key_content': 'log' });
    const flow = rig.flow();
    const out = rig.process([ev('a'), ...JAVA.map((l) => ev(l)), ev('b')], flow);
    assert.deepEqual(logs(out), ['a', JAVA.join('\n'), 'b']);
    assert.equal(flow.taken.length, 0);
    assert.equal(rig.passed.length, 0);
  });

  it('a record no parser takes goes on as the same event, with its exact line and labels', () => {
    const rig = new Rig({ 'multiline.parser': ['java'], 'multiline.key_content': 'log' });
    const plain: LogEvent = { ...ev('plain'), line: '{"log":"plain"}', labels: { app: 'x' } };
    assert.equal(rig.process([plain])[0], plain);
  });

  it('stdout lines between the lines of a stderr trace leave it whole; each stream and tag is joined on its own', () => {
    const rig = new Rig({ 'multiline.parser': ['java'], 'multiline.key_content': 'log' });
    const err = (l: string, tag = 'a') => ev(l, { stream: 'stderr' }, tag);
    const out = (l: string, tag = 'a') => ev(l, { stream: 'stdout' }, tag);
    const got = rig.process([err(JAVA[0]), out('o1'), err(JAVA[1]), err(JAVA[0], 'b'), out('o2'), err(JAVA[2]), err(JAVA[1], 'b'), err(JAVA[3]), err(JAVA[4]), err('end'), err('end', 'b')]);
    assert.deepEqual(
      got.map((e) => [e.tag, e.record.stream, e.record.log]),
      [
        ['a', 'stdout', 'o1'],
        ['a', 'stdout', 'o2'],
        ['a', 'stderr', JAVA.join('\n')],
        ['a', 'stderr', 'end'],
        ['b', 'stderr', `${JAVA[0]}\n${JAVA[1]}`],
        ['b', 'stderr', 'end'],
      ],
    );
  });

  it('an unfinished entry goes on flush_ms after its last record, not before, and is counted', async () => {
    const rig = new Rig({ 'multiline.parser': ['java'], 'multiline.key_content': 'log', flush_ms: 500 });
    const flow = rig.flow();
    const before = performance.now();
    rig.process([ev(JAVA[0]), ev(JAVA[1])], flow);
    const after = performance.now();
    await waitFor(() => rig.passed.length === 1, 'the unfinished entry went on', 5000);
    const at = rig.passed[0]!.atMs;
    assert.ok(at - before >= 500, `sent ${at - before} ms after the records came in, not before flush_ms`);
    assert.ok(at - after < 1500, `sent ${at - after} ms after the records came in: not held long past flush_ms`);
    assert.equal(rig.passed[0]!.events[0]!.record.log, `${JAVA[0]}\n${JAVA[1]}`);
    assert.equal(flow.taken[0]!.released, true);
    assert.equal(await rig.metrics.value('floki_filter_multiline_unfinished_entries_total', { name: 'multiline.0', reason: 'timeout' }), 1);
    await rig.filter.stop();
  });

  it('a line coming before flush_ms keeps the entry open: the wait runs from the last record', async () => {
    const rig = new Rig({ 'multiline.parser': ['java'], 'multiline.key_content': 'log', flush_ms: 500 });
    rig.process([ev(JAVA[0])]);
    const start = performance.now();
    await waitFor(() => performance.now() - start >= 300, 'most of flush_ms');
    const last = performance.now();
    rig.process([ev(JAVA[1])]);
    await waitFor(() => rig.passed.length === 1, 'the entry went on', 5000);
    assert.ok(rig.passed[0]!.atMs - last >= 500, 'counted from the last record');
    assert.equal(rig.passed[0]!.events[0]!.record.log, `${JAVA[0]}\n${JAVA[1]}`, 'one entry');
    await rig.filter.stop();
  });

  it('stopping sends on what is held', async () => {
    const rig = new Rig({ 'multiline.parser': ['java'], 'multiline.key_content': 'log' });
    const flow = rig.flow();
    rig.process([ev(JAVA[0]), ev(JAVA[1])], flow);
    assert.equal(rig.passed.length, 0);
    await rig.filter.stop();
    assert.deepEqual(logs(rig.passedEvents()), [`${JAVA[0]}\n${JAVA[1]}`]);
    assert.equal(flow.taken[0]!.released, true);
    assert.equal(await rig.metrics.value('floki_filter_multiline_unfinished_entries_total', { reason: 'stop' }), 1);
  });

  it('buffer off: each batch is joined on its own, nothing is held', () => {
    const rig = new Rig({ 'multiline.parser': ['java'], 'multiline.key_content': 'log', buffer: false });
    const flow = rig.flow();
    assert.deepEqual(logs(rig.process([ev(JAVA[0]), ev(JAVA[1])], flow)), [`${JAVA[0]}\n${JAVA[1]}`]);
    assert.deepEqual(logs(rig.process([ev(JAVA[2]), ev(JAVA[3])], flow)), [`${JAVA[2]}\n${JAVA[3]}`]);
    assert.equal(flow.taken.length, 0);
  });

  it('emitter_mem_buf_limit bounds what is held: the entries waiting longest go on unfinished, counted', async () => {
    const rig = new Rig({ 'multiline.parser': ['java'], 'multiline.key_content': 'log', emitter_mem_buf_limit: 10_000 });
    const big = 'x'.repeat(1000);
    // 30 traces on 30 tags, each ~1 KB and unfinished: 30 KB held, the limit is 10 KB.
    for (let i = 0; i < 30; i++) rig.process([ev(`${JAVA[0]} ${big}`, {}, `t${i}`)]);
    const pending = await rig.metrics.value('floki_filter_multiline_pending_bytes', { name: 'multiline.0' });
    assert.ok(pending <= 10_000, `holds ${pending} bytes`);
    const early = rig.passedEvents();
    assert.ok(early.length >= 20, `${early.length} sent early`);
    assert.deepEqual(early.map((e) => e.tag), Array.from({ length: early.length }, (_, i) => `t${i}`), 'the oldest first');
    assert.equal(await rig.metrics.value('floki_filter_multiline_unfinished_entries_total', { reason: 'emitter_mem_buf_limit' }), early.length);
    await rig.filter.stop();
    assert.equal(rig.passedEvents().length, 30, 'none lost');
  });

  it('a huge trace is cut at 2 MiB and marked; the next lines start afresh', async () => {
    const rig = new Rig({ 'multiline.parser': ['java'], 'multiline.key_content': 'log' });
    const huge = '\tat ' + 'y'.repeat(3 * 1024 * 1024);
    const out = rig.process([ev(JAVA[0]), ev(huge), ev(JAVA[1]), ev('end')]);
    assert.equal(out.length, 3);
    assert.equal(Buffer.byteLength(String(out[0]!.record.log)), 2 * 1024 * 1024);
    assert.deepEqual(out[0]!.metadata, { multiline_truncated: true });
    assert.deepEqual(logs(out.slice(1)), [JAVA[1], 'end']);
    assert.equal(await rig.metrics.value('floki_filter_multiline_truncated_entries_total'), 1);
  });

  it('a hostile line against a user rule that backtracks catastrophically is answered in linear time', () => {
    const registry = new ParserRegistry();
    assert.deepEqual(
      registry.defineMultiline({
        file: 'p.conf',
        line: 1,
        entries: [
          { key: 'name', value: 'hostile', line: 2 },
          { key: 'type', value: 'regex', line: 3 },
        ],
        rules: [
          { state: 'start_state', regex: '/^(\\w+\\s?)+$/', nextState: 'cont', line: 4 },
          { state: 'cont', regex: '/^\\s+at/', nextState: 'cont', line: 5 },
        ],
      }),
      [],
    );
    const rig = new Rig({ 'multiline.parser': ['hostile'], 'multiline.key_content': 'log', buffer: false }, registry);
    const started = performance.now();
    const out = rig.process([ev('a'.repeat(100_000) + '!'), ev('start here'), ev('  at x')]);
    assert.ok(performance.now() - started < 3000);
    assert.deepEqual(logs(out).map((l) => String(l).slice(0, 10)), ['a'.repeat(10), 'start here']);
  });

  it('records that are not text (numbers, maps, invalid UTF-16, a key missing) go on as they are', () => {
    const rig = new Rig({ 'multiline.parser': ['java', 'python', 'go'], 'multiline.key_content': 'log' });
    const odd = [ev(5), ev({ a: JAVA[0] }), ev('\ud800 Traceback \udfff'), { tag: 'app', time: 1n, record: { other: 'x' } }, ev(null)];
    const out = rig.process(odd);
    assert.deepEqual(out, odd);
  });
});

describe('partial_message mode', () => {
  const piece = (log: string, id: string, last: boolean, extra: Record<string, unknown> = {}) => ev(log, { partial_message: 'true', partial_id: id, partial_ordinal: '1', partial_last: last ? 'true' : 'false', ...extra });

  it('pieces over two batches are one record; the emits stay open until it settles', () => {
    const rig = new Rig({ mode: 'partial_message', 'multiline.key_content': 'log' });
    rig.settleAtOnce = false;
    const flow1 = rig.flow();
    const first = piece('a1 ', 'A', false, { source: 'stdout' });
    assert.deepEqual(rig.process([first, ev('whole')], flow1).map((e) => e.record.log), ['whole']);
    const flow2 = rig.flow();
    assert.deepEqual(rig.process([piece('a2', 'A', true, { extra: 1 })], flow2), []);
    const [joined] = rig.passedEvents();
    assert.deepEqual(joined!.record, { source: 'stdout', log: 'a1 a2' });
    assert.equal(joined!.time, first.time);
    for (const h of rig.passed[0]!.holds) h.release();
    assert.ok(flow1.taken.every((h) => h.released) && flow2.taken.every((h) => h.released));
  });

  it('a line whose last piece never comes goes on flush_ms after its last piece', async () => {
    const rig = new Rig({ mode: 'partial_message', 'multiline.key_content': 'log', flush_ms: 50 });
    const flow = rig.flow();
    const last = performance.now();
    rig.process([piece('c1 ', 'C', false), piece('c2', 'C', false)], flow);
    await waitFor(() => rig.passed.length === 1, 'the unfinished line went on', 5000);
    assert.ok(rig.passed[0]!.atMs - last >= 50);
    assert.equal(rig.passed[0]!.events[0]!.record.log, 'c1 c2');
    assert.equal(flow.taken[0]!.released, true);
    await rig.filter.stop();
  });

  it('a joined line is cut at 2 MiB and sent at once', () => {
    const rig = new Rig({ mode: 'partial_message', 'multiline.key_content': 'log' });
    const chunk = 'z'.repeat(1024 * 1024);
    const out = rig.process([piece(chunk, 'A', false), piece(chunk, 'A', false), piece(chunk, 'A', false), piece('end', 'A', true)]);
    assert.equal(out.length, 2);
    assert.equal(String(out[0]!.record.log).length, 2 * 1024 * 1024);
    assert.deepEqual(out[0]!.metadata, { multiline_truncated: true });
    assert.equal(out[1]!.record.log, 'end', 'the piece that did not fit is cut; the pieces after it make a line of their own');
  });
});

test('the options Fluent Bit refuses are config errors that name the key', () => {
  const env = { parsers: new ParserRegistry() };
  const check = (o: Record<string, unknown>) => multilineFilter.check!(o, env);
  assert.throws(() => check({ 'multiline.key_content': 'log' }), /needs at least one 'multiline.parser'/);
  assert.throws(() => check({ 'multiline.parser': ['java', 'nope'] }), /multiline.parser: no multiline parser named 'nope' \(known: docker, cri, java, go, ruby, python\)/);
  assert.throws(() => check({ 'multiline.parser': ['java'], mode: 'lines' }), /mode: expected parser or partial_message/);
  assert.throws(() => check({ 'multiline.parser': ['java'], flush_ms: 499 }), /flush_ms: 499 is too low/);
  assert.doesNotThrow(() => check({ 'multiline.parser': ['java'], flush_ms: 100, buffer: false }), 'unbuffered, flush_ms is not used');
  assert.throws(() => check({ mode: 'partial_message' }), /needs 'multiline.key_content'/);
  assert.throws(() => check({ mode: 'partial_message', 'multiline.key_content': 'log', buffer: false }), /needs buffer on/, 'Fluent Bit 5.1.1 crashes on it');
  assert.doesNotThrow(() => check({ mode: 'PARTIAL_MESSAGE', 'multiline.key_content': 'log', flush_ms: 50 }));
});

test('arbitrary records in arbitrary batches: every line comes out once, in order per stream, and every hold is released', async () => {
  const fragments = [...JAVA, 'Traceback (most recent call last):', '  File "x.py", line 1, in f', 'KeyError: 1', 'plain', '', '\t', 'panic: x', 'goroutine 1 [running]:', 'main.f()', '\t/x.go:1 +0x1'];
  const line = fc.oneof(fc.constantFrom(...fragments), fc.string({ maxLength: 8 }).map((s) => s.replace(/\n/g, ' ')));
  const record = fc.record({ log: line, stream: fc.constantFrom('stdout', 'stderr', undefined), tag: fc.constantFrom('a', 'b') });
  await fc.assert(
    fc.asyncProperty(fc.array(fc.array(record, { maxLength: 8 }), { maxLength: 8 }), fc.constantFrom('java', 'python', 'go'), fc.boolean(), fc.integer({ min: 0, max: 3000 }), async (batches, parser, buffer, limit) => {
      const rig = new Rig({ 'multiline.parser': [parser], 'multiline.key_content': 'log', buffer, emitter_mem_buf_limit: limit });
      const key = (e: LogEvent) => `${e.tag}/${String(e.record.stream)}`;
      const sent = new Map<string, string>();
      for (const b of batches) {
        const events = b.map((r) => ({ tag: r.tag, time: 1n, record: r.stream === undefined ? { log: r.log } : { log: r.log, stream: r.stream } }));
        for (const e of events) sent.set(key(e), (sent.get(key(e)) ?? '') + String(e.record.log));
        rig.process(events);
      }
      await rig.filter.stop();
      const got = new Map<string, string>();
      // Per stream, entries come out in the order of their lines, returned or passed on.
      for (const e of rig.out) got.set(key(e), (got.get(key(e)) ?? '') + String(e.record.log));
      const strip = (m: Map<string, string>) => new Map([...m].map(([k, v]) => [k, v.replace(/\n/g, '')]));
      assert.deepEqual(strip(got), strip(sent));
      assert.ok(rig.flowHolds.every((h) => h.released), 'every batch settled');
    }),
    runs(150),
  );
});


test('two multiline filters on the same tags, through the engine: CRI pieces joined, then the trace; each emit settles once its lines are delivered', async (t) => {
  const p = await startFilters([
    { name: 'multiline', match: '*', 'multiline.key_content': 'log', 'multiline.parser': 'cri' },
    { name: 'multiline', match: '*', 'multiline.key_content': 'log', 'multiline.parser': 'java' },
  ]);
  t.after(() => p.stop());
  const cri = (n: number, flag: 'P' | 'F', text: string) => ({ log: `2026-11-30T10:20:00.${String(n).padStart(9, '0')}Z stderr ${flag} ${text}` });
  let settled = 0;
  await p.emit('app', [cri(1, 'F', JAVA[0]!), cri(2, 'P', '\tat com.example.demo.Order'), cri(3, 'F', 'Service.process(OrderService.java:57)')], () => settled++);
  await p.emit('app', [cri(4, 'F', JAVA[2]!), cri(5, 'F', 'done')], () => settled++);
  await waitFor(() => p.out.length === 2, 'the trace and the line that ended it');
  assert.deepEqual(
    p.out.map((e) => e.record.log),
    [`${JAVA[0]}\n${JAVA[1]}\n${JAVA[2]}`, 'done'],
  );
  assert.equal(p.out[0]!.time, 1796034000000000001n, "the trace's first line time");
  assert.equal(settled, 0, 'nothing settles before the output settles it');
  for (const w of p.writes) w.delivery?.settle(w.events.length);
  assert.equal(settled, 2);
});

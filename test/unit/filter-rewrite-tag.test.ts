/**
 * rewrite_tag in floki's engine: re-emitted records start the pipeline again and hold the emit they came
 * from open; cycles and loops stop; the emitter's byte limit. The Fluent Bit cases are in
 * test/fixtures/filters/rewrite_tag.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LogEvent } from '../../src/core/event.js';
import type { FilterContext, Hold } from '../../src/core/plugin.js';
import { MAX_HOPS, RewriteTagFilter, rewriteTagFilter } from '../../src/filters/rewrite_tag/index.js';
import { ParserRegistry } from '../../src/parsers/registry.js';
import { filterContext, processSync } from '../helpers/plugin-context.js';
import { startFilters } from './filter-harness.js';

const settleAll = (p: Awaited<ReturnType<typeof startFilters>>) => p.writes.forEach((w) => w.delivery?.settle(w.events.length));

test('a dropped original settles only when its re-emitted record does', async (t) => {
  const p = await startFilters([{ name: 'rewrite_tag', match: 'app', rule: '$level ^error$ errors.$TAG false' }]);
  t.after(() => p.stop());
  let settled = 0;
  await p.emit('app', [{ level: 'error', n: 1 }, { level: 'info', n: 2 }], () => settled++);
  assert.deepEqual(p.out.map((e) => [e.tag, e.record.n]).sort(), [['app', 2], ['errors.app', 1]]);
  const reemitted = p.writes.find((w) => w.events[0]!.tag === 'errors.app')!;
  const original = p.writes.find((w) => w.events[0]!.tag === 'app')!;
  original.delivery!.settle(original.events.length);
  assert.equal(settled, 0, 'the re-emitted record is still open');
  reemitted.delivery!.settle(1);
  assert.equal(settled, 1);
  assert.equal(await p.metrics.value('floki_filter_rewrite_tag_emitted_records_total', { name: 'rewrite_tag.0' }), 1);
  assert.equal(await p.metrics.value('floki_input_records_total', { name: 'emitter_for_rewrite_tag.0' }), 1);
  assert.equal(await p.metrics.value('floki_filter_dropped_records_total', { name: 'rewrite_tag.0' }), 1);
});

test('re-emitted records run the pipeline from the start under their new tag', async (t) => {
  const p = await startFilters([
    { name: 'modify', match: 'out', add: 'from_the_start yes' },
    { name: 'rewrite_tag', match: 'in', rule: '$log . out true' },
    { name: 'modify', match: '*', add: 'after seen' },
  ]);
  t.after(() => p.stop());
  await p.emit('in', [{ log: 'x' }]);
  const byTag = Object.fromEntries(p.out.map((e) => [e.tag, e.record]));
  assert.deepEqual(byTag, { in: { log: 'x', after: 'seen' }, out: { log: 'x', from_the_start: 'yes', after: 'seen' } });
});

test('with keep true each copy is a record of its own', async (t) => {
  const p = await startFilters([
    { name: 'rewrite_tag', match: 'in', rule: '$log . out true' },
    { name: 'modify', match: 'in', set: 'only_in yes' },
  ]);
  t.after(() => p.stop());
  await p.emit('in', [{ log: 'x', nested: { a: 1 } }]);
  const out = p.out.find((e) => e.tag === 'out')!;
  assert.deepEqual(out.record, { log: 'x', nested: { a: 1 } });
});

test('two filters sending records to each other stop after MAX_HOPS re-emissions, counted', async (t) => {
  const p = await startFilters([
    { name: 'rewrite_tag', match: 'ping', rule: '$log . pong false' },
    { name: 'rewrite_tag', match: 'pong', rule: '$log . ping false' },
  ]);
  t.after(() => p.stop());
  let settled = 0;
  await p.emit('ping', [{ log: 'x' }], () => settled++);
  assert.equal(p.out.length, 1, 'the record comes out once');
  const emitted = (await p.metrics.value('floki_filter_rewrite_tag_emitted_records_total'));
  assert.equal(emitted, MAX_HOPS);
  assert.equal(await p.metrics.value('floki_filter_rewrite_tag_not_emitted_records_total', { reason: 'loop' }), 1);
  settleAll(p);
  assert.equal(settled, 1);
});

test("a filter that matches its own records emits each once (Fluent Bit's emitter cycle rule)", async (t) => {
  const p = await startFilters([{ name: 'rewrite_tag', match: 'app*', rule: '$log ^x$ app.again false' }]);
  t.after(() => p.stop());
  await p.emit('app', [{ log: 'x' }]);
  assert.deepEqual(p.out.map((e) => e.tag), ['app.again']);
  assert.equal(await p.metrics.value('floki_filter_rewrite_tag_not_emitted_records_total', { reason: 'cycle' }), 1);
});

test('past emitter_mem_buf_limit a record goes on under its old tag, as in Fluent Bit', () => {
  const base = filterContext('rewrite_tag.0');
  const pending: Array<() => void> = [];
  const holds: Hold[] = [];
  const ctx: FilterContext = {
    ...base,
    emit: (events: LogEvent[], h: readonly Hold[]) => {
      base.emitted.push(...events);
      holds.push(...h);
      return new Promise<void>((resolve) => pending.push(resolve));
    },
  };
  const f = new RewriteTagFilter({ rule: ['$log . new false'], emitter_mem_buf_limit: 300 }, ctx);
  const ev = (n: number): LogEvent => ({ tag: 'old', time: BigInt(n), record: { log: 'x'.repeat(100), n } });
  assert.deepEqual(processSync(f, [ev(1), ev(2)]), [], 'both fit');
  assert.equal(base.emitted.length, 2);
  const kept = processSync(f, [ev(3)]);
  assert.deepEqual(kept.map((e) => [e.tag, e.record.n]), [['old', 3]], 'over the limit: sent on, not re-emitted');
  pending.forEach((resolve) => resolve());
  return Promise.resolve().then(() => {
    assert.deepEqual(processSync(f, [ev(4)]), [], 'room again once the outputs took them');
  });
});

test('one hold per batch keeps the emit open, and the line a filter fixed goes along', () => {
  const ctx = filterContext('rewrite_tag.0');
  const f = new RewriteTagFilter({ rule: ['$k ^v$ new false'] }, ctx);
  let holds = 0;
  const flow = { hold: (): Hold => (holds++, { release() {} }) };
  processSync(f, [{ tag: 't', time: 1n, record: { k: 'v' }, line: 'exact' }, { tag: 't', time: 2n, record: { k: 'v' } }], flow);
  assert.equal(holds, 1);
  assert.deepEqual(ctx.emitted.map((e) => [e.tag, e.line]), [['new', 'exact'], ['new', undefined]]);
});

test('a rule needs four words', () => {
  const check = (o: Record<string, unknown>) => rewriteTagFilter.check!(o, { parsers: new ParserRegistry() });
  assert.throws(() => check({ rule: ['$a ^x$ new'] }), /key 'rule' \('\$a \^x\$ new'\): expected KEY REGEX NEW_TAG KEEP/);
  assert.throws(() => check({ rule: ["$a['b ^x$ new false"] }), /invalid record accessor/);
  assert.doesNotThrow(() => check({ rule: ['$a ^x$ new false extra words'] }));
});

test('keep true on a record too deep to copy: the original goes on, the copy is not emitted (counted), the batch is not failed', async (t) => {
  const p = await startFilters([{ name: 'rewrite_tag', match: 'in', rule: '$log . out true' }]);
  t.after(() => p.stop());
  let deep: Record<string, unknown> = {};
  for (let i = 0; i < 5000; i++) deep = { a: deep };
  let settled = 0;
  await p.emit('in', [{ log: 'deep', deep }, { log: 'plain' }], () => settled++);
  settleAll(p);
  assert.deepEqual(p.out.map((e) => [e.tag, e.record.log]).sort(), [['in', 'deep'], ['in', 'plain'], ['out', 'plain']]);
  assert.equal(await p.metrics.value('floki_filter_rewrite_tag_not_emitted_records_total', { name: 'rewrite_tag.0', reason: 'copy_failed' }), 1);
  assert.equal(settled, 1);
});

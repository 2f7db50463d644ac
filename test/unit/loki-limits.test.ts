/**
 * Loki's limits before sending (issue #14 item 5): label count, name and value length, and the
 * cardinality guard. A label past a limit leaves the stream for structured metadata (or is dropped),
 * counted per label and limit and logged once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import pino from 'pino';
import { renderLabelString } from '../../src/labels/label-string.js';
import { Metrics } from '../../src/observability/metrics.js';
import { LokiLimits, type LokiLimitsOptions } from '../../src/outputs/loki/limits.js';

function limits(options: Partial<LokiLimitsOptions> = {}): { limits: LokiLimits; metrics: Metrics; logs: string[] } {
  const metrics = new Metrics();
  const logs: string[] = [];
  const log = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _e, done) => (logs.push(chunk.toString()), done()) }));
  const l = new LokiLimits({
    maxLabelNames: 15,
    maxLabelNameLength: 1024,
    maxLabelValueLength: 2048,
    labelValuesLimit: 0,
    labelValuesWindowMs: 3_600_000,
    overflow: 'structured_metadata',
    priority: [],
    fallback: ['job', 'floki'],
    metrics,
    name: 'loki.0',
    log,
    ...options,
  });
  return { limits: l, metrics, logs };
}

const str = (pairs: Record<string, string>) => renderLabelString(new Map(Object.entries(pairs)));
const limited = (m: Metrics, label: string, limit: string) => m.value('floki_output_label_limited_total', { name: 'loki.0', label, limit });

test('a stream within the limits is sent as it is, with nothing moved', () => {
  const { limits: l } = limits();
  const labels = str({ job: 'floki', namespace: 'prod' });
  const v = l.streamFor(labels, 0);
  assert.equal(v.labels, labels);
  assert.equal(v.moved, undefined);
  assert.equal(v.counters.length, 0);
  assert.equal(l.streamFor(labels, 1), v, 'decided once per label string');
});

test('a value longer than 2048 bytes leaves the stream for structured metadata, cut to 2048 bytes on a character boundary', async () => {
  const { limits: l, metrics, logs } = limits();
  const reason = 'é'.repeat(1500); // 3000 bytes, 1500 characters
  const v = l.streamFor(str({ job: 'floki', reason }), 0);
  assert.equal(v.labels, str({ job: 'floki' }));
  assert.equal(v.moved?.['reason'], 'é'.repeat(1024));
  for (const c of v.counters) c.inc();
  assert.equal(await limited(metrics, 'reason', 'value_length'), 1);
  l.streamFor(str({ job: 'floki', reason: 'x'.repeat(5000) }), 0);
  assert.equal(logs.filter((line) => line.includes('value_length')).length, 1, 'logged once per label and limit');
});

test('more than max_label_names: the configured labels are kept first, in their order; the rest leave', () => {
  const { limits: l } = limits({ maxLabelNames: 3, priority: ['job', 'zone'] });
  const v = l.streamFor(str({ a: '1', b: '2', c: '3', job: 'floki', zone: 'z' }), 0);
  assert.equal(v.labels, str({ a: '1', job: 'floki', zone: 'z' }));
  assert.deepEqual(v.moved, { b: '2', c: '3' });
});

test('a name longer than max_label_name_length leaves the stream', () => {
  const { limits: l } = limits({ maxLabelNameLength: 8 });
  const v = l.streamFor(str({ job: 'floki', a_very_long_name: 'v' }), 0);
  assert.equal(v.labels, str({ job: 'floki' }));
  assert.deepEqual(v.moved, { a_very_l: 'v' });
});

test('label_overflow drop: the label leaves and goes nowhere; a stream left bare gets job="floki"', () => {
  const { limits: l } = limits({ overflow: 'drop' });
  const v = l.streamFor(str({ reason: 'x'.repeat(3000) }), 0);
  assert.equal(v.labels, str({ job: 'floki' }));
  assert.equal(v.moved, undefined);
  assert.equal(v.counters.length, 1);
});

test('cardinality guard: past label_values_limit distinct values in the window, new values leave; old ones stay; room comes back as values expire', () => {
  const hour = 3_600_000;
  const { limits: l } = limits({ labelValuesLimit: 3, labelValuesWindowMs: hour });
  const labelOf = (id: number, now: number) => l.streamFor(str({ job: 'floki', id: String(id) }), now);
  for (let id = 0; id < 3; id++) assert.equal(labelOf(id, 0).labels, str({ job: 'floki', id: String(id) }));
  for (let id = 3; id < 10; id++) {
    const v = labelOf(id, 1000);
    assert.equal(v.labels, str({ job: 'floki' }));
    assert.deepEqual(v.moved, { id: String(id) });
  }
  assert.equal(labelOf(1, 2000).labels, str({ job: 'floki', id: '1' }), 'a value already admitted keeps its label');
  // Values 0 and 2 were last seen at 0, value 1 at 2000 (its stream decided again after half a window):
  // past the window, two places are free.
  labelOf(1, hour / 2 + 2000);
  assert.equal(labelOf(20, hour + 1).labels, str({ job: 'floki', id: '20' }));
  assert.equal(labelOf(21, hour + 1).labels, str({ job: 'floki', id: '21' }));
  assert.equal(labelOf(22, hour + 1).labels, str({ job: 'floki' }));
});

test('a label string floki did not render (an old disk buffer) is sent as it is', () => {
  const { limits: l } = limits();
  assert.equal(l.streamFor('not a label string', 0).labels, 'not a label string');
});

test("the cardinality guard's memory is bounded in bytes: a flood of label names ends up leaving the streams", () => {
  const { limits: l } = limits({ labelValuesLimit: 1000, guardBytes: 64 * 1024 });
  let left = 0;
  for (let i = 0; i < 5000; i++) {
    const v = l.streamFor(str({ job: 'floki', [`name_${i}_${'x'.repeat(100)}`]: 'v' }), 0);
    if (v.moved !== undefined) left++;
    assert.ok(l.guardBytes <= 64 * 1024, String(l.guardBytes));
  }
  assert.ok(left > 4000, `${left} of 5000 label names left their stream once the guard was full`);
});

/**
 * Issue #11 at a decoding receiver: whatever one record holds (its depth, its time, its label values),
 * every acked record reaches Loki or is counted with its reason, and nobody else's entries are lost.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deepRecord, lokiHarness, T0 } from '../helpers/loki-harness.js';

test('a record nested 100,000 levels deep is delivered with its whole line, not dropped by the formatter', async (t) => {
  const h = await lokiHarness(t, { max_line_size: 0 });
  h.output.write([
    { tag: 't', time: T0, record: { log: 'deep', deep: deepRecord(100_000) } },
    { tag: 't', time: T0 + 1n, record: { log: 'next' } },
  ]);
  await h.receiver.waitFor(2);
  const line = h.receiver.entries[0]!.line;
  assert.equal(line.length, '{"log":"deep","deep":'.length + 100_000 * 6 + 8 + 1);
  assert.ok(line.startsWith('{"log":"deep","deep":{"a":{"a":'));
  assert.equal(h.receiver.entries[1]!.line, '{"log":"next"}');
  assert.equal(await h.value('floki_output_dropped_records_total', { reason: 'error' }), 0);
});

/** record_modifier beyond the Fluent Bit cases (test/fixtures/filters/record_modifier). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/config/load.js';
import type { LogEvent } from '../../src/core/event.js';
import { RecordModifierFilter, recordModifierFilter } from '../../src/filters/record_modifier/index.js';
import { ParserRegistry } from '../../src/parsers/registry.js';
import { PLUGINS } from '../../src/plugins.js';
import { pluginContext, processSync } from '../helpers/plugin-context.js';
import { startFilters } from './filter-harness.js';

const make = (options: Record<string, unknown>) => new RecordModifierFilter(options, pluginContext('record_modifier.0'));

test("the page's ${HOSTNAME} comes from the config's env or the environment", () => {
  const text = `pipeline:
  inputs:
    - name: dummy
  filters:
    - name: record_modifier
      match: '*'
      record:
        - hostname \${HOSTNAME}
        - product Awesome_Tool
  outputs:
    - name: stdout
      match: '*'
`;
  const config = parseConfig(text, 'floki.yaml', PLUGINS, { HOSTNAME: 'node-7' });
  assert.deepEqual(config.filters[0]!.options.record, ['hostname node-7', 'product Awesome_Tool']);
});

test('each record gets a UUID of its own', () => {
  const events: LogEvent[] = [1, 2, 3].map((n) => ({ tag: 't', time: BigInt(n), record: { n } }));
  processSync(make({ uuid_key: 'id' }), events);
  const ids = new Set(events.map((e) => e.record.id));
  assert.equal(ids.size, 3);
});

test('a changed record loses its fixed line, an untouched one keeps it', () => {
  const changed: LogEvent = { tag: 't', time: 1n, record: { a: 1, drop: 2 }, line: 'x' };
  const untouched: LogEvent = { tag: 't', time: 2n, record: { a: 1 }, line: 'y' };
  processSync(make({ remove_key: ['drop'] }), [changed, untouched]);
  assert.equal(changed.line, undefined);
  assert.deepEqual(changed.record, { a: 1 });
  assert.equal(untouched.line, 'y');
});

test('a record emptied by allowlist_key is dropped, settles as delivered and is counted', async (t) => {
  const pipeline = await startFilters([{ name: 'record_modifier', match: '*', allowlist_key: 'keep' }]);
  t.after(() => pipeline.stop());
  let settled = 0;
  await pipeline.emit('t', [{ a: 1 }, { keep: 1, a: 2 }], () => settled++);
  assert.deepEqual(pipeline.out.map((e) => e.record), [{ keep: 1 }]);
  pipeline.writes.forEach((w) => w.delivery?.settle(w.events.length));
  assert.equal(settled, 1, 'the emit settles: the dropped record counts as delivered');
  assert.equal(await pipeline.metrics.value('floki_filter_dropped_records_total', { name: 'record_modifier.0' }), 1);
});

test('an empty record with nothing to append is left alone', () => {
  const events: LogEvent[] = [{ tag: 't', time: 1n, record: {} }];
  assert.equal(processSync(make({ remove_key: ['a'] }), events).length, 1);
});

test('a record rule needs a key and a value', () => {
  assert.throws(() => recordModifierFilter.check!({ record: ['lonely'] }, { parsers: new ParserRegistry() }), /key 'record' \('lonely'\): expected a key and a value/);
});

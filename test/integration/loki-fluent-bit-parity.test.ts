/**
 * floki's loki output against what Fluent Bit 5.1.1's sent for the same record and keys
 * (test/fixtures/fluent-bit-loki, recorded from the real binary): stream labels (bare accessors
 * named after their path, auto_kubernetes_labels, label_map_path, $TAG, maps as JSON, null as
 * "null"), the line (every key read into a label or structured metadata removed, remove_keys,
 * drop_single_key), structured metadata and the tenant.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/load.js';
import { PLUGINS } from '../../src/plugins.js';
import { ROOT } from '../helpers/floki-process.js';
import { lokiHarness, T0 } from '../helpers/loki-harness.js';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'fluent-bit-loki');

interface Case {
  name: string;
  tag: string;
  record: Record<string, unknown>;
  output: Record<string, string>;
  fluentBit: { tenant?: string; body: { streams: { stream: Record<string, string>; values: [string, string, Record<string, string>?][] }[] } };
}

const cases = JSON.parse(readFileSync(join(FIXTURES, 'cases.json'), 'utf8')) as Case[];

for (const c of cases) {
  test(`as Fluent Bit 5.1.1: ${c.name}`, async (t) => {
    const keys = Object.entries(c.output)
      .map(([k, v]) => `      ${k}: ${JSON.stringify(v.replace('@LABEL_MAP@', join(FIXTURES, 'label-map.json')))}\n`)
      .join('');
    const config = parseConfig(`pipeline:\n  inputs:\n    - name: dummy\n  outputs:\n    - name: loki\n      match: '*'\n${keys}`, 'fluent-bit.yaml', PLUGINS, {});
    const options: Record<string, unknown> = { ...config.outputs[0]!.options };
    for (const key of ['port', 'batch_wait', 'retry_min_backoff', 'retry_max_backoff']) delete options[key];
    const h = await lokiHarness(t, options);
    h.output.write([{ tag: c.tag, time: T0, record: structuredClone(c.record) }]);
    await h.receiver.waitFor(1);

    const [stream] = c.fluentBit.body.streams;
    const [, line, sm] = stream!.values[0]!;
    const got = h.receiver.entries[0]!;
    assert.deepEqual(got.labels, stream!.stream, 'labels');
    assert.equal(got.line, line, 'line');
    assert.deepEqual(got.sm, sm ?? {}, 'structured metadata');
    assert.equal(got.tenant, c.fluentBit.tenant, 'tenant');
  });
}

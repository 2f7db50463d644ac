/**
 * `line_format fluentd_key_value` and the other fluent-plugin-grafana-loki options of the loki output.
 * Expected lines derived from grafana/loki clients/cmd/fluentd/lib/fluent/plugin/out_loki.rb,
 * `record_to_line` (`:key_value` branch: `v.to_s`, `gsub(/(["\\])/, '\\\\\1')`, quoted when the value
 * includes ' ' or '='; drop_single_key sends `record[record.keys[0]]`), and Ruby 3.4's to_s/inspect
 * (the fluentd-kubernetes-daemonset v1.19 images run Ruby 3.4: `{"a" => 1}`), and `configure`
 * (bearer_token_file read once, an empty one refused).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fluentdKeyValueLine, rubyInspect, rubyNumber } from '../../src/labels/fluentd-key-value.js';
import { LineFormatter } from '../../src/labels/line-formatter.js';
import { resolveLokiConfig } from '../../src/outputs/loki/options.js';
import { compileRecordAccessor } from '../../src/labels/record-accessor.js';

test('fluentd_key_value: k=v, quoted only with a space or =, quotes and backslashes escaped, Ruby to_s', () => {
  const line = fluentdKeyValueLine(
    {
      log: 'GET /index.html 200',
      stream: 'stdout',
      n: 42,
      f: 1.5,
      ok: true,
      none: null,
      eq: 'a=b',
      q: 'say "hi"',
      bs: 'C:\\path',
      kubernetes: { pod_name: 'web-0', labels: { app: 'web' } },
      list: ['x', 1, null],
      empty: '',
    },
    1e9,
  );
  assert.equal(
    line,
    'log="GET /index.html 200" stream=stdout n=42 f=1.5 ok=true none= eq="a=b" q="say \\"hi\\"" bs=C:\\\\path ' +
      'kubernetes="{\\"pod_name\\" => \\"web-0\\", \\"labels\\" => {\\"app\\" => \\"web\\"}}" list="[\\"x\\", 1, nil]" empty=',
  );
});

test('Ruby inspect and Float#to_s', () => {
  assert.equal(rubyInspect({ a: 'x\ny', b: '#{x}' }), '{"a" => "x\\ny", "b" => "\\#{x}"}');
  assert.equal(rubyInspect('\u0001\u001b'), '"\\u0001\\e"');
  assert.equal(rubyNumber(0.1), '0.1');
  assert.equal(rubyNumber(1e20), '1.0e+20');
  assert.equal(rubyNumber(1.5e-7), '1.5e-07');
  assert.equal(rubyNumber(-3), '-3');
});

test('the loki output options: line_format fluentd_key_value with drop_single_key raw, extract_kubernetes_labels, bearer_token_file', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'floki-loki-fluentd-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const token = join(dir, 'token');
  writeFileSync(token, 'secret');
  const config = resolveLokiConfig({ line_format: 'fluentd_key_value', extract_kubernetes_labels: true, bearer_token_file: token });
  assert.equal(config.lineFormat, 'fluentd_key_value');
  assert.equal(config.autoKubernetesLabels, true);
  // The plugin's extra_labels win over the kubernetes labels; Fluent Bit's auto_kubernetes_labels keeps its own order.
  assert.equal(config.fixedLabelsWin, true);
  assert.equal(resolveLokiConfig({ auto_kubernetes_labels: true }).fixedLabelsWin, false);
  assert.equal(config.headers.Authorization, 'Bearer secret');
  const empty = join(dir, 'empty');
  writeFileSync(empty, '');
  assert.throws(() => resolveLokiConfig({ bearer_token_file: empty }), /bearer_token_file: .* is empty/);
  assert.throws(() => resolveLokiConfig({ bearer_token_file: join(dir, 'missing') }), /bearer_token_file: cannot read/);

  const formatter = new LineFormatter({ format: 'fluentd_key_value', dropSingleKey: 'raw', removePaths: [compileRecordAccessor('$stream').path] });
  assert.equal(formatter.format({ log: 'only line', stream: 'stdout' }), 'only line', 'one key left: its value alone, unquoted');
  assert.equal(formatter.format({ log: 'a b', stream: 'stdout', x: 1 }), 'log="a b" x=1');
});

test('property: any record formats without throwing; a quoted value holds no unescaped quote', async () => {
  const fc = (await import('fast-check')).default;
  const { runs } = await import('../helpers/fuzz.js');
  fc.assert(
    fc.property(fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }).filter((k) => !/[\s="]/.test(k)), fc.jsonValue({ maxDepth: 2 })), (record) => {
      const line = fluentdKeyValueLine(record, 1e9);
      for (const m of line.matchAll(/="((?:[^"\\]|\\.)*)"/g)) assert.ok(!/(^|[^\\])"/.test(m[1]!));
    }),
    runs(200),
  );
});

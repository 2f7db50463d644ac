import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LogEvent } from '../../src/core/event.js';
import { compileLabelRules, LabelRuleError, labelMapEntries } from '../../src/labels/label-rules.js';
import { sanitizeLabelName } from '../../src/labels/label-name.js';
import { escapeLabelValue, renderLabelString } from '../../src/labels/label-string.js';
import { StreamLabeler } from '../../src/labels/stream-labeler.js';

function event(record: Record<string, unknown>, extra?: Partial<LogEvent>): LogEvent {
  return { tag: 'kube.test', time: 1n, record, ...extra };
}

function labeler(labels: string[], labelKeys: string[] = []): StreamLabeler {
  return new StreamLabeler(compileLabelRules(labels, labelKeys).rules);
}

const k8s = {
  log: 'x',
  stream: 'stdout',
  kubernetes: { namespace_name: 'prod', pod_name: 'web-1', labels: { app: 'web' } },
};

test('sanitises label names to [a-zA-Z_][a-zA-Z0-9_]*', () => {
  assert.equal(sanitizeLabelName('app'), 'app');
  assert.equal(sanitizeLabelName('app.kubernetes.io/name'), 'app_kubernetes_io_name');
  assert.equal(sanitizeLabelName('my-label'), 'my_label');
  assert.equal(sanitizeLabelName('1st'), '_1st');
  assert.equal(sanitizeLabelName('9-x'), '_9_x');
  assert.equal(sanitizeLabelName('_ok_2'), '_ok_2');
  // Fluent Bit replaces each byte of a character it does not keep: ü and ï are two bytes each.
  assert.equal(sanitizeLabelName('ünï'), '__n__');
  assert.equal(sanitizeLabelName(''), '_');
});

test('escapes backslash, quote and newline in values', () => {
  assert.equal(escapeLabelValue('plain'), 'plain');
  assert.equal(escapeLabelValue('a"b'), 'a\\"b');
  assert.equal(escapeLabelValue('a\\b'), 'a\\\\b');
  assert.equal(escapeLabelValue('a\nb'), 'a\\nb');
  assert.equal(renderLabelString(new Map([['b', '2'], ['a', 'say "hi"\n']])), '{a="say \\"hi\\"\\n", b="2"}');
});

test('fixed, accessor and bare accessor labels, sorted by name; a bare accessor is named after its path, as Fluent Bit 5.1.1 does', () => {
  const l = labeler(['job=floki', "namespace=$kubernetes['namespace_name']", "$kubernetes['labels']['app']", '$stream']);
  assert.equal(l.labelsFor(event(k8s)), '{job="floki", kubernetes_labels_app="web", namespace="prod", stream="stdout"}');
});

test('label_keys name labels after their path', () => {
  const l = labeler(['job=floki'], ["$kubernetes['pod_name']", 'stream', '$arr[1]']);
  assert.equal(l.labelsFor(event({ ...k8s, arr: ['a0', 'a1'] })), '{arr_1="a1", job="floki", kubernetes_pod_name="web-1", stream="stdout"}');
});

test('the same label set renders the same string whatever the config order', () => {
  const a = labeler(['z=1', 'a=2', '$stream']);
  const b = labeler(['$stream', 'a=2', 'z=1']);
  assert.equal(a.labelsFor(event(k8s)), b.labelsFor(event(k8s)));
});

test('missing and empty values are left out', () => {
  const l = labeler(['job=floki', "app=$kubernetes['labels']['nope']", '$missing', '$empty']);
  assert.equal(l.labelsFor(event({ empty: '' })), '{job="floki"}');
});

test('numbers and booleans become label values, null "null", maps and arrays their JSON (as Fluent Bit)', () => {
  const l = labeler(['$code', '$ok', '$obj', '$nil', '$list']);
  assert.equal(l.labelsFor(event({ code: 404, ok: false, obj: { a: 1 }, nil: null, list: [1, 'x'] })), '{code="404", list="[1,\\"x\\"]", nil="null", obj="{\\"a\\":1}", ok="false"}');
});

test('falls back to job="floki" when no label has a value', () => {
  const l = labeler(['$missing']);
  assert.equal(l.labelsFor(event({})), '{job="floki"}');
});

test('accessor-derived names are sanitised', () => {
  const l = labeler(["$kubernetes['labels']['app.kubernetes.io/name']", 'my-name=x']);
  const rec = { kubernetes: { labels: { 'app.kubernetes.io/name': 'shop' } } };
  assert.equal(l.labelsFor(event(rec)), '{kubernetes_labels_app_kubernetes_io_name="shop", my_name="x"}');
});

test('values are escaped in the rendered string', () => {
  const l = labeler(['$msg']);
  assert.equal(l.labelsFor(event({ msg: 'a "q" \\ b\nc' })), '{msg="a \\"q\\" \\\\ b\\nc"}');
});

test('event labels (from filters) are merged in and win over configured ones', () => {
  const l = labeler(['job=floki', 'kind=config']);
  const e = event({}, { labels: { kind: 'Pod', reason: 'BackOff', 'bad-name': 'v', empty: '' } });
  assert.equal(l.labelsFor(e), '{bad_name="v", job="floki", kind="Pod", reason="BackOff"}');
  assert.equal(l.labelsFor(event({})), '{job="floki", kind="config"}');
});

test('cached strings are returned for repeated value sets and differ when values differ', () => {
  const l = labeler(['$a', '$b']);
  const s1 = l.labelsFor(event({ a: 'x', b: 'y' }));
  const s2 = l.labelsFor(event({ a: 'x', b: 'y' }));
  assert.equal(s1, '{a="x", b="y"}');
  assert.equal(s1, s2);
  // Values that would collide under naive joining must not share a cache entry.
  assert.equal(l.labelsFor(event({ a: 'x|', b: 'y' })), '{a="x|", b="y"}');
  assert.equal(l.labelsFor(event({ a: 'x', b: '|y' })), '{a="x", b="|y"}');
  assert.equal(l.labelsFor(event({ b: 'y' })), '{b="y"}');
  assert.equal(l.labelsFor(event({ a: '', b: 'y' })), '{b="y"}');
});

test('the cache stays bounded in bytes, and never keeps a label set with values too long for Loki', () => {
  const l = new StreamLabeler(compileLabelRules(['$id']).rules, { cacheBytes: 4096 });
  for (let i = 0; i < 100; i++) assert.equal(l.labelsFor(event({ id: i })), `{id="${i}"}`);
  assert.ok(l.cacheBytes <= 4096, String(l.cacheBytes));
  const big = new StreamLabeler(compileLabelRules(['$reason']).rules);
  for (let i = 0; i < 20; i++) {
    const reason = `${i}`.padEnd(2 * 1024 * 1024, 'x');
    assert.equal(big.labelsFor(event({ reason })), `{reason="${reason}"}`);
  }
  assert.ok(big.cacheBytes < 1024, `20 label sets of 2 MiB values left ${big.cacheBytes} bytes cached`);
});

test('$TAG can be a label; bare, Fluent Bit names it _', () => {
  const l = labeler(['tag=$TAG', 'source=$TAG[1]']);
  assert.equal(l.labelsFor(event({})), '{source="test", tag="kube.test"}');
  assert.equal(labeler(['$TAG']).labelsFor(event({})), '{_="kube.test"}');
});

test('consumed paths: every record path an accessor reads, bare or name=$accessor, and the label map', () => {
  const { consumedPaths } = compileLabelRules(['job=x', "ns=$kubernetes['namespace_name']", '$stream', 'tag=$TAG'], ["$kubernetes['pod_name']"], 'labels', [{ name: 'lvl', path: ['level'] }]);
  assert.deepEqual(consumedPaths, [['kubernetes', 'namespace_name'], ['stream'], ['kubernetes', 'pod_name'], ['level']]);
});

test('label_map_path: each leaf names the label of the value at its path', () => {
  const map = labelMapEntries({ sub: { stream: 'stream', id: 'sub_id' }, level: 'lvl' }, 'map.json');
  assert.deepEqual(map, [{ name: 'stream', path: ['sub', 'stream'] }, { name: 'sub_id', path: ['sub', 'id'] }, { name: 'lvl', path: ['level'] }]);
  const l = new StreamLabeler(compileLabelRules(['job=floki'], [], 'labels', map).rules);
  assert.equal(l.labelsFor(event({ sub: { stream: 'stdout', id: 'x' }, level: 'info' })), '{job="floki", lvl="info", stream="stdout", sub_id="x"}');
  assert.throws(() => labelMapEntries({ a: 1 }, 'map.json'), /label_map_path: map.json: the value at 'a' is 1/);
  assert.throws(() => labelMapEntries([], 'map.json'), /expected a JSON object/);
});

test('auto_kubernetes_labels: every string of kubernetes.labels, key sanitised; they win over rules of the same name, filters win over them', () => {
  const l = new StreamLabeler(compileLabelRules(['job=floki', 'team=config']).rules, { autoKubernetesLabels: true });
  const rec = { kubernetes: { labels: { team: 'payments', 'app.kubernetes.io/name': 'web', num: 5, empty: '' } } };
  assert.equal(l.labelsFor(event(rec)), '{app_kubernetes_io_name="web", job="floki", team="payments"}');
  assert.equal(l.labelsFor(event(rec, { labels: { team: 'filter' } })), '{app_kubernetes_io_name="web", job="floki", team="filter"}');
  assert.equal(l.labelsFor(event({ kubernetes: { labels: { team: 'other' } } })), '{job="floki", team="other"}');
  assert.equal(l.labelsFor(event({ log: 'no kubernetes' })), '{job="floki", team="config"}');
});

test('invalid label entries are config errors naming the option', () => {
  assert.throws(() => compileLabelRules(['job']), LabelRuleError);
  assert.throws(() => compileLabelRules(['job=']), /labels: invalid entry 'job='/);
  assert.throws(() => compileLabelRules(['=x']), LabelRuleError);
  assert.throws(() => compileLabelRules(["ns=$kubernetes['x"]), /labels: invalid record accessor/);
  assert.throws(() => compileLabelRules([], ['$a[b]']), /label_keys: invalid record accessor/);
  // As Fluent Bit: 'key name for record accessor cannot start with a number'.
  assert.throws(() => compileLabelRules(['$9lives']), /labels: key name for record accessor cannot start with a number: \$9lives/);
});

test('labels objects a filter shares (frozen) render once each; a plain object is read every time, so changing it counts', () => {
  const l = labeler(['job=floki']);
  const warning = Object.freeze({ type: 'Warning', reason: 'BackOff' });
  const normal = Object.freeze({ type: 'Normal', reason: 'Pulled' });
  assert.equal(l.labelsFor(event({}, { labels: warning })), '{job="floki", reason="BackOff", type="Warning"}');
  assert.equal(l.labelsFor(event({}, { labels: normal })), '{job="floki", reason="Pulled", type="Normal"}');
  assert.equal(l.labelsFor(event({}, { labels: warning })), '{job="floki", reason="BackOff", type="Warning"}');
  const mutable: Record<string, string> = { type: 'Normal' };
  assert.equal(l.labelsFor(event({}, { labels: mutable })), '{job="floki", type="Normal"}');
  mutable.type = 'Warning';
  assert.equal(l.labelsFor(event({}, { labels: mutable })), '{job="floki", type="Warning"}');
});

test("fixedLabelsWin (the loki output's extract_kubernetes_labels): fluent-plugin-grafana-loki's order, accessor labels < kubernetes labels < extra_labels", () => {
  const l = new StreamLabeler(compileLabelRules(['env=prod', "app=$kubernetes['container_name']"]).rules, { autoKubernetesLabels: true, fixedLabelsWin: true });
  const rec = { kubernetes: { container_name: 'nginx', labels: { env: 'dev', app: 'web', tier: 'front' } } };
  assert.equal(l.labelsFor(event(rec)), '{app="web", env="prod", tier="front"}');
  assert.equal(l.labelsFor(event({ kubernetes: { container_name: 'nginx' } })), '{app="nginx", env="prod"}');
});

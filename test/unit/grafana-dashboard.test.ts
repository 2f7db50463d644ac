/**
 * The Grafana dashboard's LogQL, listed and checked against the labels floki puts on streams: every
 * label in a stream selector, a by/without clause or label_values() is one the deploy configs' loki
 * output or the event_exporter filter sets, and the selectors' job is the configs' job.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { eventLabels } from '../../src/filters/event_exporter/index.js';
import { ROOT } from '../helpers/floki-process.js';

const GRAFANA = join(ROOT, 'configs', 'grafana');

interface Query {
  where: string;
  logql: string;
}

/** Every LogQL expression of a dashboard: panel targets and query variables (with where they are). */
function queries(dashboard: Record<string, any>): Query[] {
  const out: Query[] = [];
  for (const panel of dashboard.panels ?? []) {
    for (const target of panel.targets ?? []) if (typeof target.expr === 'string') out.push({ where: `panel "${panel.title}" ${target.refId}`, logql: target.expr });
  }
  for (const v of dashboard.templating?.list ?? []) {
    if (v.type !== 'query') continue;
    if (typeof v.definition === 'string') out.push({ where: `variable ${v.name}`, logql: v.definition });
    if (typeof v.query?.stream === 'string') out.push({ where: `variable ${v.name} stream`, logql: v.query.stream });
    if (typeof v.query?.label === 'string') out.push({ where: `variable ${v.name} label`, logql: `label_values(${v.query.label})` });
  }
  return out;
}

interface Matcher {
  name: string;
  op: string;
  value: string;
}

/**
 * The label names a query uses: stream selector matchers (`{name op "value", …}`), `by (…)` and
 * `without (…)` clauses, and label_values()'s label. Quoted text (values, line_format templates with
 * their `{{…}}`) is skipped, so only selectors are read as braces.
 */
function labelUses(logql: string): { matchers: Matcher[]; grouped: string[] } {
  const matchers: Matcher[] = [];
  const grouped: string[] = [];
  let outside = '';
  for (let i = 0; i < logql.length; i++) {
    const c = logql[i]!;
    if (c === '"' || c === '`') {
      const end = c === '`' ? logql.indexOf('`', i + 1) : closingQuote(logql, i);
      assert.ok(end > i, `unterminated string in ${logql}`);
      outside += '""';
      i = end;
    } else outside += c;
  }
  // Selectors, read from the original text at the same places (values are needed for job).
  const selector = /\{([^{}]*)\}/g;
  for (let m = selector.exec(outside); m; m = selector.exec(outside)) {
    const body = logql.slice(m.index + 1, mapIndex(logql, m.index + m[0].length - 1));
    const matcher = /\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*(?:,|$)/gy;
    let count = 0;
    for (let mm = matcher.exec(body); mm; mm = matcher.exec(body)) {
      matchers.push({ name: mm[1]!, op: mm[2]!, value: mm[3]! });
      count++;
      if (matcher.lastIndex >= body.length) break;
    }
    assert.ok(count > 0, `a stream selector with matchers in ${logql}`);
  }
  for (const m of outside.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)) grouped.push(...m[1]!.split(',').map((s) => s.trim()).filter(Boolean));
  const labelValues = /label_values\((?:[^,]*,)?\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)/.exec(outside);
  if (labelValues) grouped.push(labelValues[1]!);
  return { matchers, grouped };
}

function closingQuote(s: string, start: number): number {
  for (let i = start + 1; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === '"') return i;
  }
  return -1;
}

/** `outside` has every string replaced by `""`; map an index in it back to the original text. */
function mapIndex(original: string, outsideIndex: number): number {
  let o = 0;
  for (let i = 0; i < original.length; i++) {
    if (o === outsideIndex) return i;
    const c = original[i]!;
    if (c === '"' || c === '`') {
      i = c === '`' ? original.indexOf('`', i + 1) : closingQuote(original, i);
      o += 2;
    } else o++;
  }
  return original.length;
}

/** The labels floki sets: the deploy configs' loki output (labels, label_keys) and the event_exporter filter's. */
function flokiLabels(): { names: Set<string>; job: string } {
  const names = new Set<string>();
  let job: string | undefined;
  for (const file of ['configs/kubernetes/base/node-agent.floki.yaml', 'configs/kubernetes/base/aggregator.floki.yaml', 'configs/floki.yaml']) {
    const config = parse(readFileSync(join(ROOT, file), 'utf8')) as { pipeline: { outputs: { name: string; labels: string; label_keys?: string }[] } };
    const loki = config.pipeline.outputs.find((o) => o.name === 'loki')!;
    for (const rule of loki.labels.split(',').map((s) => s.trim())) {
      const [name, value] = rule.split('=') as [string, string];
      names.add(name);
      if (name === 'job') {
        assert.ok(job === undefined || job === value, 'one job across the configs');
        job = value;
      }
    }
    for (const key of (loki.label_keys ?? '').split(',').map((s) => s.trim()).filter(Boolean)) names.add(/([A-Za-z_][A-Za-z0-9_]*)'?\]?$/.exec(key)![1]!);
  }
  const sample = { reason: 'BackOff', type: 'Warning', involvedObject: { kind: 'Pod', namespace: 'shop' } };
  for (const name of Object.keys(eventLabels(sample))) names.add(name);
  return { names, job: job! };
}

const dashboards = readdirSync(join(GRAFANA, 'dashboards')).filter((f) => f.endsWith('.json'));

test('the label names floki produces, read from the deploy configs and the event_exporter filter', () => {
  const { names, job } = flokiLabels();
  assert.deepEqual([...names].sort(), ['app', 'component', 'container', 'job', 'kind', 'namespace', 'pod', 'reason', 'stream', 'type']);
  assert.equal(job, 'floki');
});

test("the Kubernetes events dashboard's LogQL uses only labels floki produces, with its job", () => {
  assert.ok(dashboards.includes('kubernetes-events.json'));
  const { names, job } = flokiLabels();
  for (const file of dashboards) {
    const dashboard = JSON.parse(readFileSync(join(GRAFANA, 'dashboards', file), 'utf8')) as Record<string, any>;
    const list = queries(dashboard);
    assert.ok(list.length >= 8, `${file}: the panels' and variables' queries are found (${list.length})`);
    for (const { where, logql } of list) {
      const { matchers, grouped } = labelUses(logql);
      for (const m of matchers) assert.ok(names.has(m.name), `${file} ${where}: selector label '${m.name}' is not one floki sets: ${logql}`);
      for (const g of grouped) assert.ok(names.has(g), `${file} ${where}: grouping label '${g}' is not one floki sets: ${logql}`);
      const jobs = matchers.filter((m) => m.name === 'job');
      if (matchers.length > 0) assert.deepEqual(jobs.map((m) => [m.op, m.value]), [['=', job]], `${file} ${where}: selects job="${job}"`);
    }
  }
});

test('the dashboard has the panels the issue asks for, on the provisioned Loki datasource', () => {
  const dashboard = JSON.parse(readFileSync(join(GRAFANA, 'dashboards', 'kubernetes-events.json'), 'utf8')) as Record<string, any>;
  const panels = new Map<string, any>(dashboard.panels.map((p: any) => [p.title, p]));
  const grouping = (title: string) => labelUses(panels.get(title).targets[0].expr).grouped;
  assert.deepEqual(grouping('Events over time by type'), ['type']);
  assert.deepEqual(grouping('Events over time by reason'), ['reason']);
  assert.deepEqual(grouping('Warnings by kind'), ['kind']);
  assert.deepEqual(grouping('Warnings by namespace'), ['namespace']);
  assert.deepEqual(grouping('Top reasons'), ['reason']);
  assert.match(panels.get('Top reasons').targets[0].expr, /^topk\(10, /);
  const latest = panels.get('Latest warnings');
  assert.equal(latest.type, 'table');
  assert.ok(labelUses(latest.targets[0].expr).matchers.some((m) => m.name === 'type' && m.value === 'Warning'));
  assert.match(latest.targets[0].expr, /\| json \| line_format "\{\{\.message\}\}"/);

  const provisioning = parse(readFileSync(join(GRAFANA, 'provisioning', 'datasources', 'loki.yaml'), 'utf8')) as { datasources: { type: string; uid: string }[] };
  const loki = provisioning.datasources.find((d) => d.type === 'loki')!;
  for (const panel of dashboard.panels) {
    assert.deepEqual(panel.datasource, { type: 'loki', uid: loki.uid }, `panel "${panel.title}" uses the provisioned datasource`);
    for (const target of panel.targets) assert.deepEqual(target.datasource, panel.datasource);
  }
  const dashboardsProvider = parse(readFileSync(join(GRAFANA, 'provisioning', 'dashboards', 'floki.yaml'), 'utf8')) as { providers: { type: string; options: { path: string } }[] };
  assert.equal(dashboardsProvider.providers[0]!.type, 'file');
});

test('label uses are read from LogQL as Loki reads it', () => {
  assert.deepEqual(labelUses('sum by (type, kind) (count_over_time({job="floki", reason=~"Back.*"} | json | line_format "{{.message}} {x=\\"y\\"}" [5m]))'), {
    matchers: [{ name: 'job', op: '=', value: 'floki' }, { name: 'reason', op: '=~', value: 'Back.*' }],
    grouped: ['type', 'kind'],
  });
  assert.deepEqual(labelUses('label_values({job="floki"}, namespace)').grouped, ['namespace']);
});

/**
 * Fluentd's routing, through the Fluentd front-end and the real engine: the first `<match>` wins,
 * `<filter>`s apply in file order only before the first matching `<match>`, `<label @X>` keeps its
 * events apart (a source's `@label`, `relabel`), `copy` fans out to its `<store>`s, `null` drops.
 * The config is mapped as written; only its `forward` sources and `stdout` outputs are swapped for a
 * probe input and a collecting output, so the test sees where each event went.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pino } from 'pino';
import { DiskFiles } from '../../src/config/files.js';
import { readFluentdConfig } from '../../src/config/formats/fluentd/map/index.js';
import { Report } from '../../src/config/resolve/report.js';
import { resolveModel, variablesOf } from '../../src/config/resolve/index.js';
import { Engine } from '../../src/core/engine.js';
import type { LogEvent } from '../../src/core/event.js';
import type { FilterContext, InputContext } from '../../src/core/plugin.js';
import { pluginRegistry, type AnyPlugin } from '../../src/core/registry-types.js';
import { Metrics } from '../../src/observability/metrics.js';
import { ParserRegistry } from '../../src/parsers/registry.js';
import { PLUGIN_LIST } from '../../src/plugins.js';
import { waitFor } from '../helpers/wait.js';
import { writeFiles } from './config-kit.js';

interface Routing {
  /** Emits one event per tag from the input of that `@id`. */
  emit(input: string, tags: string[], record?: Record<string, unknown>): Promise<void>;
  /** Tags each output (by `@id`) took, in order. */
  got: Map<string, LogEvent[]>;
  /** Which `mark` filters (by `@id`) each event passed, by tag. */
  metrics: Metrics;
  engine: Engine;
}

/** A filter that appends its instance name to the record's `passed` list: where it ran. */
const mark: AnyPlugin = {
  kind: 'filter',
  name: 'mark',
  description: 'test filter',
  options: [],
  create: (_o, ctx: FilterContext) => ({
    process: (events: LogEvent[]) => {
      for (const e of events) e.record.passed = [...((e.record.passed as string[] | undefined) ?? []), ctx.name];
      return events;
    },
  }),
};

async function routing(t: TestContext, conf: string): Promise<Routing> {
  const dir = writeFiles(t, { 'fluent.conf': conf });
  const front = readFluentdConfig(join(dir, 'fluent.conf'), new DiskFiles(), { env: {} });
  assert.deepEqual(front.problems, []);
  const model = front.model;
  const inputs = new Map<string, InputContext>();
  const got = new Map<string, LogEvent[]>();
  const probe: AnyPlugin = {
    kind: 'input',
    name: 'probe',
    description: 'test input',
    options: [],
    create: (_o, ctx) => {
      inputs.set(ctx.name, ctx);
      return { start: async () => {}, stop: async () => {}, pause() {}, resume() {} };
    },
  };
  const collect: AnyPlugin = {
    kind: 'output',
    name: 'collect',
    description: 'test output',
    options: [],
    create: (_o, ctx) => {
      got.set(ctx.name, []);
      return {
        start: async () => {},
        queuedBytes: () => 0,
        stop: async () => {},
        write: (events: LogEvent[], delivery) => {
          got.get(ctx.name)!.push(...events.map((e) => structuredClone(e)));
          delivery?.settle(events.length);
        },
      };
    },
  };
  const keep = new Set(['name', 'alias', 'match_regex']);
  const swap = (name: string, to: string) => (s: (typeof model.inputs)[number]) => {
    const n = s.entries.find((e) => e.key === 'name')!;
    if (n.value !== name) return;
    n.value = to;
    s.entries = s.entries.filter((e) => keep.has(e.key));
  };
  model.inputs.forEach(swap('forward', 'probe'));
  model.outputs.forEach(swap('stdout', 'collect'));
  model.filters.forEach(swap('stdout', 'mark'));
  const registry = pluginRegistry([probe, collect, mark, ...PLUGIN_LIST]);
  const report = new Report();
  const resolved = resolveModel(model, registry, variablesOf(model, {}), new ParserRegistry(), report);
  assert.ok(resolved.config, report.problems.map((p) => `${p.line}: ${p.message}`).join('\n'));
  const metrics = new Metrics();
  const engine = new Engine(resolved.config, pino({ level: 'silent' }), metrics);
  await engine.start();
  t.after(() => engine.stop(1000));
  return {
    got,
    metrics,
    engine,
    emit: async (input, tags, record = {}) => {
      const ctx = inputs.get(input);
      assert.ok(ctx, `no input ${input}`);
      let settled = false;
      await ctx.emit(
        tags.map((tag) => ({ tag, time: 1n, record: structuredClone(record) })),
        () => (settled = true),
      );
      await waitFor(() => settled, 'the events to settle');
    },
  };
}

const tags = (events: LogEvent[] | undefined) => (events ?? []).map((e) => e.tag);

test('the first <match> that matches takes the event; later ones never see it', async (t) => {
  const r = await routing(
    t,
    `<source>
  @type forward
  @id in
</source>
<match app.debug>
  @type stdout
  @id debug
</match>
<match app.**>
  @type stdout
  @id app
</match>
<match **>
  @type stdout
  @id rest
</match>`,
  );
  await r.emit('in', ['app.debug', 'app.web', 'app', 'other', 'app.debug.x']);
  assert.deepEqual(tags(r.got.get('debug')), ['app.debug']);
  assert.deepEqual(tags(r.got.get('app')), ['app.web', 'app', 'app.debug.x']);
  assert.deepEqual(tags(r.got.get('rest')), ['other']);
});

test('a <filter> applies only to events no earlier <match> took, in file order', async (t) => {
  const r = await routing(
    t,
    `<source>
  @type forward
  @id in
</source>
<filter **>
  @type stdout
  @id f1
</filter>
<match early.**>
  @type stdout
  @id early
</match>
<filter **>
  @type stdout
  @id f2
</filter>
<filter late.*>
  @type stdout
  @id f3
</filter>
<match **>
  @type stdout
  @id rest
</match>`,
  );
  await r.emit('in', ['early.a', 'late.b', 'x']);
  const passed = (out: string, tag: string) => r.got.get(out)!.find((e) => e.tag === tag)!.record.passed;
  assert.deepEqual(passed('early', 'early.a'), ['f1']);
  assert.deepEqual(passed('rest', 'late.b'), ['f1', 'f2', 'f3']);
  assert.deepEqual(passed('rest', 'x'), ['f1', 'f2']);
});

test("a source's @label sends its events to that label's filters and outputs only", async (t) => {
  const r = await routing(
    t,
    `<source>
  @type forward
  @id plain
</source>
<source>
  @type forward
  @id labelled
  @label @SIDE
</source>
<filter **>
  @type stdout
  @id top_filter
</filter>
<match **>
  @type stdout
  @id top
</match>
<label @SIDE>
  <filter **>
    @type stdout
    @id side_filter
  </filter>
  <match **>
    @type stdout
    @id side
  </match>
</label>`,
  );
  await r.emit('plain', ['a']);
  await r.emit('labelled', ['b']);
  assert.deepEqual(tags(r.got.get('top')), ['a']);
  assert.deepEqual(tags(r.got.get('side')), ['b']);
  assert.deepEqual(r.got.get('top')![0]!.record.passed, ['top_filter']);
  assert.deepEqual(r.got.get('side')![0]!.record.passed, ['side_filter']);
});

test('relabel continues through the label; copy sends to every store, one of which may relabel; null drops', async (t) => {
  const r = await routing(
    t,
    `<source>
  @type forward
  @id in
</source>
<filter **>
  @type stdout
  @id top_filter
</filter>
<match drop.**>
  @type null
</match>
<match moved.**>
  @type relabel
  @label @MOVED
</match>
<match **>
  @type copy
  <store>
    @type stdout
    @id copy_a
  </store>
  <store>
    @type relabel
    @label @MOVED
  </store>
</match>
<label @MOVED>
  <filter **>
    @type stdout
    @id moved_filter
  </filter>
  <match **>
    @type stdout
    @id moved
  </match>
</label>`,
  );
  await r.emit('in', ['drop.x', 'moved.y', 'z']);
  assert.deepEqual(tags(r.got.get('copy_a')), ['z']);
  assert.deepEqual(tags(r.got.get('moved')), ['moved.y', 'z']);
  // The copy's other store saw the event before the label's filter changed it.
  assert.deepEqual(r.got.get('copy_a')![0]!.record.passed, ['top_filter']);
  for (const e of r.got.get('moved')!) assert.deepEqual(e.record.passed, ['top_filter', 'moved_filter']);
  const dropped = await r.metrics.value('floki_output_proc_records_total', { name: 'null.0' });
  assert.equal(await r.metrics.value('floki_output_proc_records_total', { name: 'relabel.0' }), 0, 'a relabel takes nothing itself');
  assert.equal(dropped, 1);
});

test('several patterns in one <match>, and {a,b}', async (t) => {
  const r = await routing(
    t,
    `<source>
  @type forward
  @id in
</source>
<match a.{x,y} b.*>
  @type stdout
  @id one
</match>
<match **>
  @type stdout
  @id rest
</match>`,
  );
  await r.emit('in', ['a.x', 'a.y', 'a.z', 'b.q', 'b.q.r']);
  assert.deepEqual(tags(r.got.get('one')), ['a.x', 'a.y', 'b.q']);
  assert.deepEqual(tags(r.got.get('rest')), ['a.z', 'b.q.r']);
});

test("grep keeps a record when every <regexp> matches and no <exclude> does; <or> and <and> blocks too", async (t) => {
  const r = await routing(
    t,
    `<source>
  @type forward
  @id in
</source>
<filter **>
  @type grep
  <regexp>
    key level
    pattern /^(error|warn)$/
  </regexp>
  <regexp>
    key $.kubernetes.namespace_name
    pattern /^prod/
  </regexp>
  <exclude>
    key msg
    pattern /healthz/
  </exclude>
  <exclude>
    key msg
    pattern /ping/
  </exclude>
  <or>
    <regexp>
      key team
      pattern /^a$/
    </regexp>
    <regexp>
      key team
      pattern /^b$/
    </regexp>
  </or>
</filter>
<match **>
  @type stdout
  @id out
</match>`,
  );
  const ctx = { kubernetes: { namespace_name: 'prod-1' }, team: 'a' };
  const cases: [string, Record<string, unknown>, boolean][] = [
    ['kept', { level: 'error', msg: 'boom', ...ctx }, true],
    ['one regexp fails', { level: 'info', msg: 'boom', ...ctx }, false],
    ['the other regexp fails', { level: 'warn', msg: 'boom', kubernetes: { namespace_name: 'dev' }, team: 'a' }, false],
    ['the first exclude matches', { level: 'warn', msg: 'GET /healthz', ...ctx }, false],
    ['the second exclude matches', { level: 'warn', msg: 'ping', ...ctx }, false],
    ['the <or> holds by its second regexp', { level: 'warn', msg: 'x', kubernetes: { namespace_name: 'prod' }, team: 'b' }, true],
    ['the <or> fails', { level: 'warn', msg: 'x', kubernetes: { namespace_name: 'prod' }, team: 'c' }, false],
  ];
  for (const [i, [, record]] of cases.entries()) await r.emit('in', [`t${i}`], record);
  const kept = new Set(tags(r.got.get('out')));
  for (const [i, [what, , want]] of cases.entries()) assert.equal(kept.has(`t${i}`), want, what);
});

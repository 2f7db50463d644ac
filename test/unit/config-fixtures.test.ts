/**
 * Fluent Bit's own configs (test/fixtures/configs, sources in its README): the documented examples
 * load in both formats and each classic file builds the same pipeline as its YAML twin; public
 * examples read as Fluent Bit reads them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FlokiConfig, PluginInstanceConfig } from '../../src/core/pipeline-config.js';
import { DiskFiles } from '../../src/config/files.js';
import { readClassicParsersFile } from '../../src/config/formats/classic/index.js';
import { readConfig } from '../../src/config/formats/index.js';
import { PLUGINS } from '../../src/plugins.js';
import { ROOT } from '../helpers/floki-process.js';
import { lines, loaded, refused, RecordingParsers, writeFiles } from './config-kit.js';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'configs');
const DAEMONSET_ENV = { LOG_DIR: '/var/log/containers', DB_DIR: '/var/lib/fluent-bit', LOKI_HOST: 'loki', LOKI_PORT: '3100', LOG_LEVEL: 'info' };

/** What a config makes the engine run, without where each part was written. */
function pipeline(c: FlokiConfig, parsers: RecordingParsers): unknown {
  const instance = (i: PluginInstanceConfig): unknown => ({
    plugin: i.plugin.name,
    name: i.instanceName,
    options: i.options,
    storage: i.storageType,
    match: i.matcher?.source,
    logLevel: i.logLevel,
    processors: i.processors?.map(instance),
  });
  const specs = (list: RecordingParsers['defined']) => list.map((s) => ({ entries: s.entries.map((e) => [e.key, e.value]), rules: s.rules?.map((r) => [r.state, r.regex, r.nextState]) }));
  return {
    service: c.service,
    inputs: c.inputs.map(instance),
    filters: c.filters.map(instance),
    outputs: c.outputs.map(instance),
    parsers: specs(parsers.defined),
    multilineParsers: specs(parsers.definedMultiline),
    warnings: c.warnings.map((w) => w.message),
  };
}

const twins = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.conf'))
    .map((f) => f.slice(0, -'.conf'.length));

test("every documented example loads in both formats, and the classic file builds its YAML twin's pipeline", () => {
  const names = twins(join(FIXTURES, 'docs'));
  assert.deepEqual(names, [
    'dummy', 'forward-output', 'forward', 'grep', 'http', 'kubernetes-events', 'kubernetes', 'loki', 'modify', 'multiline',
    'nest', 'parser', 'record_modifier', 'rewrite_tag', 'stdout', 'tail', 'throttle', 'type_converter',
  ]);
  for (const name of names) {
    const classic = loaded(join(FIXTURES, 'docs', `${name}.conf`), PLUGINS, { environment: { HOSTNAME: 'node-1' } });
    const yaml = loaded(join(FIXTURES, 'docs', `${name}.yaml`), PLUGINS, { environment: { HOSTNAME: 'node-1' } });
    assert.deepEqual(pipeline(classic.config, classic.parsers), pipeline(yaml.config, yaml.parsers), name);
  }
});

test('the DaemonSet config and its YAML twin build the same pipeline, includes, parsers files and variables included', () => {
  const classic = loaded(join(FIXTURES, 'daemonset', 'fluent-bit.conf'), PLUGINS, { environment: DAEMONSET_ENV });
  const yaml = loaded(join(FIXTURES, 'daemonset', 'fluent-bit.yaml'), PLUGINS, { environment: DAEMONSET_ENV });
  assert.deepEqual(pipeline(classic.config, classic.parsers), pipeline(yaml.config, yaml.parsers));
  const output = classic.config.outputs[0]!;
  assert.deepEqual((output.options['labels'] as string[]).slice(0, 2), ['job=fluent-bit', 'cluster=test-cluster']);
  assert.equal(output.options['host'], 'loki');
  assert.deepEqual(RecordingParsers.names(classic.parsers.defined), ['app_json']);
  assert.deepEqual(RecordingParsers.names(classic.parsers.definedMultiline), ['java_stack']);
  assert.deepEqual(lines(classic.warnings), ["fluent-bit.conf:8: service: key 'daemon' is ignored by floki"]);
});

test("Fluent Bit's in_dummy.conf loads; its in_forward.conf is refused for the key Fluent Bit 5.1.1 refuses", () => {
  const dummy = loaded(join(FIXTURES, 'public', 'fluent-bit', 'in_dummy.conf'), PLUGINS);
  assert.deepEqual(dummy.config.inputs[0]!.options['dummy'], '{"this is":"dummy data"}');
  assert.equal(dummy.config.inputs[0]!.options['tag'], 'dummy.data');
  // fluent-bit: "forward: unknown configuration property 'buffer'"
  assert.deepEqual(refused(join(FIXTURES, 'public', 'fluent-bit', 'in_forward.conf'), PLUGINS), ["in_forward.conf:47: inputs[0] (forward): unknown key 'buffer'"]);
});

test("Fluent Bit's stock parsers.conf and parsers_multiline.conf read without a problem", () => {
  const stock = readClassicParsersFile(join(FIXTURES, 'public', 'fluent-bit', 'parsers.conf'), new DiskFiles());
  assert.deepEqual(stock.problems, []);
  const names = RecordingParsers.names(stock.parsers);
  for (const expected of ['apache', 'nginx', 'json', 'docker', 'cri', 'syslog-rfc5424', 'syslog-rfc3164']) assert.ok(names.includes(expected), expected);
  const apache = stock.parsers.find((p) => p.entries[0]!.value === 'apache')!;
  const regex = apache.entries.find((e) => e.key === 'regex')!.value;
  assert.ok(regex.startsWith('^(?<host>[^ ]*) [^ ]* (?<user>[^ ]*) \\[(?<time>[^\\]]*)\\] "'), regex);
  assert.ok(regex.endsWith('(?: "(?<referer>[^\\"]*)" "(?<agent>[^\\"]*)")?$'), regex);
  const ml = readClassicParsersFile(join(FIXTURES, 'public', 'fluent-bit', 'parsers_multiline.conf'), new DiskFiles());
  assert.deepEqual(ml.problems, []);
  assert.deepEqual(ml.multilineParsers[0]!.rules!.map((r) => r.state), ['start_state', 'cont']);
});

test('the fluent-bit-kubernetes-logging DaemonSet config reads: includes, both parsers files, every section', () => {
  const { model, problems } = readConfig(join(FIXTURES, 'public', 'fluent-bit-kubernetes-logging', 'fluent-bit.conf'), new DiskFiles());
  assert.deepEqual(problems, []);
  assert.deepEqual(model.inputs.map((s) => s.entries.find((e) => e.key === 'Name')!.value), ['tail']);
  assert.deepEqual(model.filters.map((s) => s.entries.find((e) => e.key === 'Name')!.value), ['kubernetes']);
  assert.deepEqual(model.outputs.map((s) => s.entries.find((e) => e.key === 'Name')!.value), ['stdout']);
  assert.equal(model.files.length, 4);
});

test("the Helm chart's config reads, with the image's parsers.conf; what floki lacks is named plugin by plugin", () => {
  const stockFiles = new Map([['parsers.conf', join(FIXTURES, 'public', 'fluent-bit', 'parsers.conf')]]);
  const r = refused(join(FIXTURES, 'public', 'helm-charts-fluent-bit', 'fluent-bit.conf'), PLUGINS, { stockFiles });
  // The chart's kubernetes filter is floki's now; the systemd input and the es outputs are not.
  assert.deepEqual(r.map((p) => /^fluent-bit\.conf:(\d+): (?:inputs|filters|outputs)\[\d\]: unknown (?:input|filter|output) plugin '(\w+)'/.exec(p)?.slice(1).join(' ') ?? p), ['21 systemd', '35 es', '42 es']);
});

test("the README's example config, in YAML and in the classic format, builds one pipeline", (t) => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## A config'), readme.indexOf('## Coming from Fluent Bit'));
  const blocks = [...section.matchAll(/```(\w*)\n([\s\S]*?)```/g)].map((m) => m[2]!);
  const dir = writeFiles(t, { 'floki.yaml': blocks[0]!, 'fluent-bit.conf': blocks[1]! });
  const yaml = loaded(join(dir, 'floki.yaml'), PLUGINS);
  const classic = loaded(join(dir, 'fluent-bit.conf'), PLUGINS);
  assert.deepEqual(pipeline(classic.config, classic.parsers), pipeline(yaml.config, yaml.parsers));
  assert.equal(classic.config.outputs[0]!.plugin.name, 'loki');
});

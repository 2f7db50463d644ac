/**
 * Fluent Bit's YAML format beyond service and pipeline: includes, env (map and list), parsers,
 * multiline_parsers, processors, and the sections floki refuses or ignores.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PLUGIN_LIST, PLUGINS } from '../../src/plugins.js';

const FILTER_NAMES = PLUGIN_LIST.filter((p) => p.kind === 'filter').map((p) => p.name).sort().join(', ');
import { lines, load, loaded, refused, RecordingParsers, writeFiles } from './config-kit.js';

const PIPELINE = `pipeline:
  inputs:
    - name: dummy
      tag: app
  outputs:
    - name: stdout
      match: '*'
`;

test('includes are read relative to the including file, nested, and add to its sections', (t) => {
  const dir = writeFiles(t, {
    'fluent-bit.yaml': 'includes:\n  - inclusion-1.yaml\n  - subdir/inclusion-2.yaml\nservice:\n  flush: 2\n' + PIPELINE,
    'inclusion-1.yaml': 'pipeline:\n  inputs:\n    - name: dummy\n      tag: one\n',
    'subdir/inclusion-2.yaml': 'includes:\n  - deeper.yaml\npipeline:\n  outputs:\n    - name: stdout\n      match: two\n',
    'subdir/deeper.yaml': 'service:\n  grace: 7\n',
  });
  const { config } = loaded(join(dir, 'fluent-bit.yaml'), PLUGINS);
  assert.deepEqual(config.inputs.map((i) => i.options['tag']), ['one', 'app']);
  assert.deepEqual(config.outputs.map((o) => o.matcher!.source), ['two', '*']);
  assert.equal(config.service.flushMs, 2000);
  assert.equal(config.service.graceMs, 7000);
});

test('an include that is missing, or includes itself, is an error at the include line', (t) => {
  const dir = writeFiles(t, {
    'main.yaml': 'includes:\n  - missing.yaml\n  - loop.yaml\n' + PIPELINE,
    'loop.yaml': 'includes:\n  - main.yaml\n',
  });
  assert.deepEqual(refused(join(dir, 'main.yaml'), PLUGINS), [
    `main.yaml:2: includes: cannot read ${join(dir, 'missing.yaml')}: ENOENT: no such file`,
    `loop.yaml:2: includes: ${join(dir, 'main.yaml')} is already included`,
  ]);
});

test('env as a map or as a list (value, or file:// uri); env wins over the environment; ${VAR:-default}', (t) => {
  const dir = writeFiles(t, {
    'fb.yaml': `env:
  - name: TAG
    value: from-env
  - name: SECRET
    uri: file://SECRET_PATH
    refresh_interval: 60
service:
  log_level: \${LEVEL:-warn}
pipeline:
  inputs:
    - name: dummy
      tag: \${TAG}
      dummy: '{"secret": "\${SECRET}", "host": "\${HOSTNAME}"}'
  outputs:
    - name: stdout
      match: '*'
`,
    secret: 's3cret\n',
  });
  const path = join(dir, 'fb.yaml');
  writeFileSync(path, readFileSync(path, 'utf8').replace('SECRET_PATH', join(dir, 'secret')));
  const { config } = loaded(path, PLUGINS, { environment: { TAG: 'from-environment', LEVEL: '' } });
  assert.equal(config.inputs[0]!.options['tag'], 'from-env');
  assert.equal(config.service.logLevel, 'warn');
  const record = config.inputs[0]!.options['dummy'];
  assert.equal(typeof record === 'string' ? JSON.parse(record).secret : (record as Record<string, string>).secret, 's3cret');

  const map = writeFiles(t, { 'fb.yaml': 'env:\n  TAG: mapped\n' + PIPELINE.replace('tag: app', 'tag: ${TAG}') });
  assert.equal(loaded(join(map, 'fb.yaml'), PLUGINS).config.inputs[0]!.options['tag'], 'mapped');
});

test('parsers and multiline_parsers become parser specs with file and line, rules included', (t) => {
  const dir = writeFiles(t, {
    'fb.yaml': `parsers:
  - name: custom_parser1
    format: json
    time_key: time
    time_format: '%Y-%m-%dT%H:%M:%S.%L'
    time_keep: on
  - name: custom_parser2
    format: regex
    regex: '^(?<pri>[0-9]{1,5}) (?<message>.+)$'
    types: pid:integer
multiline_parsers:
  - name: multiline-regex-test
    type: regex
    flush_timeout: 1000
    rules:
      - state: start_state
        regex: '/([a-zA-Z]+ \\d+ \\d+:\\d+:\\d+)(.*)/'
        next_state: cont
      - state: cont
        regex: '/^\\s+at.*/'
        next_state: cont
${PIPELINE}`,
  });
  const { parsers } = loaded(join(dir, 'fb.yaml'), PLUGINS);
  assert.deepEqual(RecordingParsers.names(parsers.defined), ['custom_parser1', 'custom_parser2']);
  const first = parsers.defined[0]!;
  assert.equal(first.file, join(dir, 'fb.yaml'));
  assert.equal(first.line, 2);
  assert.deepEqual(first.entries, [
    { key: 'name', value: 'custom_parser1', line: 2 },
    { key: 'format', value: 'json', line: 3 },
    { key: 'time_key', value: 'time', line: 4 },
    { key: 'time_format', value: '%Y-%m-%dT%H:%M:%S.%L', line: 5 },
    { key: 'time_keep', value: 'on', line: 6 },
  ]);
  const ml = parsers.definedMultiline[0]!;
  assert.deepEqual(ml.entries.map((e) => [e.key, e.value]), [['name', 'multiline-regex-test'], ['type', 'regex'], ['flush_timeout', '1000']]);
  assert.deepEqual(ml.rules, [
    { state: 'start_state', regex: '/([a-zA-Z]+ \\d+ \\d+:\\d+:\\d+)(.*)/', nextState: 'cont', line: 16 },
    { state: 'cont', regex: '/^\\s+at.*/', nextState: 'cont', line: 19 },
  ]);
});

test("a parser registry's problems are the config's problems", (t) => {
  const dir = writeFiles(t, { 'fb.yaml': 'parsers:\n  - name: p\n    format: json\n  - name: q\n    format: jsn\n' + PIPELINE });
  const r = load(join(dir, 'fb.yaml'), PLUGINS, { parsers: undefined });
  assert.equal(r.config, undefined);
  assert.equal(r.problems.length, 1);
  assert.match(lines(r.problems)[0]!, /^fb\.yaml:5: .*format.*jsn/);
});

test('processors: logs on inputs and outputs become their own filters, in order', (t) => {
  const dir = writeFiles(t, {
    'fb.yaml': `pipeline:
  inputs:
    - name: dummy
      tag: app
      processors:
        logs:
          - name: event_exporter
          - name: event_exporter
            alias: second
            key: message
  outputs:
    - name: stdout
      match: '*'
      processors:
        logs:
          - name: event_exporter
            match: ignored
`,
  });
  const { config, warnings } = loaded(join(dir, 'fb.yaml'), PLUGINS);
  const input = config.inputs[0]!;
  assert.deepEqual(input.processors!.map((p) => [p.plugin.name, p.instanceName, p.matcher]), [['event_exporter', 'event_exporter.0', undefined], ['event_exporter', 'second', undefined]]);
  assert.deepEqual(input.processors![1]!.options['key'], ['message']);
  assert.equal(config.outputs[0]!.processors!.length, 1);
  assert.deepEqual(lines(warnings), ["fb.yaml:17: outputs[0].processors.logs[0] (event_exporter): 'match' has no effect on a processor: it takes every event of its input or output"]);
});

test('processors name filters; other signals, unknown processors and processors on filters are refused', (t) => {
  const dir = writeFiles(t, {
    'fb.yaml': `pipeline:
  inputs:
    - name: dummy
      processors:
        metrics:
          - name: labels
        logs:
          - name: content_modifier
  filters:
    - name: event_exporter
      match: '*'
      processors:
        logs: []
  outputs:
    - name: stdout
      match: '*'
`,
  });
  assert.deepEqual(refused(join(dir, 'fb.yaml'), PLUGINS), [
    'fb.yaml:5: inputs[0]: processors.metrics is not supported by floki (floki carries logs only)',
    `fb.yaml:8: inputs[0].processors.logs[0]: unknown processor plugin 'content_modifier' (known: ${FILTER_NAMES})`,
    "fb.yaml:12: filters[0] (event_exporter): unknown key 'processors'",
  ]);
});

test('plugins and customs are refused by name; extensions is ignored; an unused upstream_servers is a warning; an unknown section is an error', (t) => {
  const dir = writeFiles(t, {
    'fb.yaml': `plugins:
  - /path/to/out_gstdout.so
customs:
  - name: calyptia
extensions:
  opamp:
    endpoint: 127.0.0.1:4318
upstream_servers:
  - name: forward-balancing
    nodes:
      - name: node-1
        host: 127.0.0.1
        port: 43000
${PIPELINE}`,
  });
  const r = load(join(dir, 'fb.yaml'), PLUGINS);
  assert.deepEqual(lines(r.problems), [
    'fb.yaml:1: plugins is not supported by floki (external plugins (.so) cannot be loaded by floki)',
    'fb.yaml:3: customs is not supported by floki (custom plugins are not supported by floki)',
  ]);
  assert.deepEqual(lines(r.warnings).slice(0, 2), [
    "fb.yaml:9: upstream_servers: 'forward-balancing' is not used by any output's 'upstream'",
    'fb.yaml:5: extensions is ignored by floki (settings for other tools; Fluent Bit ignores them too)',
  ]);

  const bad = writeFiles(t, { 'fb.yaml': 'pipelines:\n  inputs: []\n' + PIPELINE });
  assert.deepEqual(refused(join(bad, 'fb.yaml'), PLUGINS), [
    "fb.yaml:1: unknown section 'pipelines' (expected env, includes, service, pipeline, parsers, multiline_parsers, upstream_servers)",
  ]);
});

test('a YAML alias bomb is a problem at its line, not an exception', (t) => {
  const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 0; i < 8; i++) bomb.push(`${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill('*' + String.fromCharCode(97 + i)).join(', ')}]`);
  const dir = writeFiles(t, { 'fb.yaml': `pipeline:\n  inputs:\n    - name: dummy\n      dummy:\n        ${bomb.join('\n        ')}\n  outputs:\n    - name: stdout\n      match: '*'\n` });
  const problems = refused(join(dir, 'fb.yaml'), PLUGINS);
  assert.equal(problems.length, 1);
  assert.match(problems[0]!, /^fb\.yaml:\d+: /);
});

test('two pipeline sections in one file add up, as in Fluent Bit; a key given twice in one plugin is an error', (t) => {
  const dir = writeFiles(t, { 'fb.yaml': `${PIPELINE}pipeline:\n  inputs:\n    - name: dummy\n      tag: second\n      rate: 1\n      rate: 2\n` });
  assert.deepEqual(refused(join(dir, 'fb.yaml'), PLUGINS), ["fb.yaml:13: inputs[1] (dummy): key 'rate' is set 2 times"]);
  const ok = writeFiles(t, { 'fb.yaml': `${PIPELINE}pipeline:\n  inputs:\n    - name: dummy\n      tag: second\n` });
  assert.deepEqual(loaded(join(ok, 'fb.yaml'), PLUGINS).config.inputs.map((i) => i.options['tag']), ['app', 'second']);
});

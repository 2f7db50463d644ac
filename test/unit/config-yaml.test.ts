import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig, type PluginRegistry } from '../../src/config/load.js';
import { ConfigError } from '../../src/config/errors.js';
import { parseDuration, parseSize, parseBool } from '../../src/config/options.js';
import type { AnyPlugin } from '../../src/core/registry-types.js';

const noop = () => {
  throw new Error('not created in these tests');
};
const registry: PluginRegistry = new Map<string, AnyPlugin>([
  ['forward', { kind: 'input', name: 'forward', description: '', create: noop, options: [
    { name: 'listen', type: 'string', default: '0.0.0.0', description: '' },
    { name: 'port', type: 'int', default: 24224, description: '' },
    { name: 'buffer_max_size', type: 'size', default: '6144000', description: '' },
  ] }],
  ['event_exporter', { kind: 'filter', name: 'event_exporter', description: '', create: noop, options: [] }],
  ['loki', { kind: 'output', name: 'loki', description: '', create: noop, options: [
    { name: 'host', type: 'string', required: true, description: '' },
    { name: 'port', type: 'int', default: 3100, description: '' },
    { name: 'labels', type: 'list', default: 'job=floki', description: '' },
    { name: 'batch_wait', type: 'duration', default: 1, description: '' },
    { name: 'tls', type: 'bool', default: false, description: '' },
    { name: 'line_format', type: 'string', default: 'json', choices: ['json', 'key_value'], description: '' },
  ] }],
]);

const GOOD = `service:
  flush: 1
  http_server: on
  http_listen: 127.0.0.1
  http_port: 2020
pipeline:
  inputs:
    - name: forward
      listen: 127.0.0.1
      port: 24224
  filters:
    - name: event_exporter
      match: '*'
  outputs:
    - name: loki
      match: '*'
      host: 127.0.0.1
      port: 3100
      labels: job=floki
`;

function problems(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseConfig(text, 'floki.yaml', registry, env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err.message.split('\n');
  }
  assert.fail('expected the config to be rejected');
}

test('the config from the issue loads as written', () => {
  const c = parseConfig(GOOD, 'floki.yaml', registry, {});
  assert.equal(c.service.flushMs, 1000);
  assert.equal(c.service.httpServer, true);
  assert.equal(c.service.httpListen, '127.0.0.1');
  assert.equal(c.service.httpPort, 2020);
  assert.equal(c.service.graceMs, 5000);
  assert.deepEqual(c.inputs[0]!.options, { listen: '127.0.0.1', port: 24224, buffer_max_size: 6144000 });
  assert.equal(c.inputs[0]!.instanceName, 'forward.0');
  assert.equal(c.filters[0]!.matcher!.matches('any.tag'), true);
  assert.deepEqual(c.outputs[0]!.options['labels'], ['job=floki']);
  assert.equal(c.outputs[0]!.options['batch_wait'], 1000);
});

test('an unknown key names file, line, section, plugin and key', () => {
  const text = GOOD.replace('      labels: job=floki', '      lables: job=floki');
  assert.deepEqual(problems(text), ["floki.yaml:19: outputs[0] (loki): unknown key 'lables' (did you mean 'labels'?)"]);
});

test('an unknown plugin is an error at its line', () => {
  const [p] = problems(GOOD.replace('name: event_exporter', 'name: event_exporterr'));
  assert.match(p!, /^floki\.yaml:12: filters\[0\]: unknown filter plugin 'event_exporterr' \(known: event_exporter\)$/);
});

test('a plugin in the wrong section is unknown there', () => {
  const [p] = problems(GOOD.replace('- name: forward', '- name: loki'));
  assert.match(p!, /^floki\.yaml:8: inputs\[0\]: unknown input plugin 'loki'/);
});

test('a wrong type names the key and what was expected', () => {
  const [p] = problems(GOOD.replace('port: 24224', 'port: lots'));
  assert.equal(p, "floki.yaml:10: inputs[0] (forward): key 'port': expected an integer, got 'lots'");
  const [q] = problems(GOOD.replace('http_server: on', 'http_server: maybe'));
  assert.equal(q, "floki.yaml:3: service: key 'http_server': expected on/off or true/false, got 'maybe'");
  const [r] = problems(GOOD.replace('labels: job=floki', 'labels: job=floki\n      line_format: xml'));
  assert.equal(r, "floki.yaml:20: outputs[0] (loki): key 'line_format': expected one of json, key_value, got 'xml'");
});

test('a missing required key is an error at the plugin', () => {
  const [p] = problems(GOOD.replace('      host: 127.0.0.1\n', ''));
  assert.equal(p, "floki.yaml:15: outputs[0] (loki): missing required key 'host'");
});

test('every problem is reported, not just the first', () => {
  const text = GOOD.replace('port: 24224', 'prot: 24224').replace('labels: job=floki', 'lables: x').replace('flush: 1', 'flush: soon');
  assert.equal(problems(text).length, 3);
});

test('an output without match warns and receives nothing, as in Fluent Bit; a filter without match is an error', () => {
  const c = parseConfig(GOOD.replace("      match: '*'\n      host", '      host'), 'floki.yaml', registry, {});
  assert.equal(c.outputs[0]!.matcher!.matches('any.tag'), false);
  assert.equal(c.outputs[0]!.matcher!.matches(''), false);
  assert.deepEqual(
    c.warnings.map((w) => `${w.file}:${w.line}: ${w.message}`),
    ["floki.yaml:15: outputs[0] (loki): NO match for this output instance: it receives nothing (give 'match' or 'match_regex')"],
  );
  const [p] = problems(GOOD.replace("    - name: event_exporter\n      match: '*'\n", '    - name: event_exporter\n'));
  assert.match(p!, /^floki\.yaml:12: filters\[0\] \(event_exporter\): missing 'match' or 'match_regex'/);
});

test('YAML syntax errors carry a line', () => {
  const [p] = problems('service:\n  flush: 1\n pipeline: [\n');
  assert.match(p!, /^floki\.yaml:\d+: /);
});

test('${VAR} comes from env, then the environment; unset is an error', () => {
  const text = 'env:\n  LOKI_HOST: loki.svc\n' + GOOD.replace('host: 127.0.0.1', 'host: ${LOKI_HOST}').replace('port: 3100', 'port: ${LOKI_PORT}');
  const c = parseConfig(text, 'floki.yaml', registry, { LOKI_PORT: '3200', LOKI_HOST: 'ignored' });
  assert.equal(c.outputs[0]!.options['host'], 'loki.svc');
  assert.equal(c.outputs[0]!.options['port'], 3200);
  const [p] = problems(GOOD.replace('host: 127.0.0.1', 'host: ${NOPE}'));
  assert.equal(p, "floki.yaml:17: outputs[0] (loki): variable 'NOPE' is not set (in env or the environment)");
});

test('alias names the instance; instances of one plugin are numbered', () => {
  const text = GOOD.replace('    - name: forward\n', '    - name: forward\n      alias: fw_main\n') + '    - name: loki\n      match: x\n      host: h\n';
  const c = parseConfig(text, 'floki.yaml', registry, {});
  assert.equal(c.inputs[0]!.instanceName, 'fw_main');
  assert.deepEqual(c.outputs.map((o) => o.instanceName), ['loki.0', 'loki.1']);
});

test('durations, sizes and booleans read as Fluent Bit reads them', () => {
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('10s'), 10_000);
  assert.equal(parseDuration('5m'), 300_000);
  assert.equal(parseDuration(2), 2000);
  assert.equal(parseDuration('1.5'), 1500);
  assert.throws(() => parseDuration('10 parsecs'));
  assert.equal(parseSize('4M'), 4 * 1024 * 1024);
  assert.equal(parseSize('32K'), 32 * 1024);
  assert.equal(parseSize('1G'), 1024 ** 3);
  assert.equal(parseSize('512'), 512);
  assert.equal(parseSize('2MB'), 2 * 1024 * 1024);
  assert.throws(() => parseSize('-1'));
  for (const t of ['on', 'true', 'On', true]) assert.equal(parseBool(t), true);
  for (const f of ['off', 'false', 'OFF', false]) assert.equal(parseBool(f), false);
  assert.throws(() => parseBool('1x'));
});

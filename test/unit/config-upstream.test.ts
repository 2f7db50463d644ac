/**
 * The forward output's `upstream` as the config loader binds it: a classic upstream file (`[UPSTREAM]`
 * and `[NODE]`s), a YAML upstream file (`upstream_servers`), or the name of the YAML config's own
 * `upstream_servers` entry; mistakes reported at the upstream file's line. Fluent Bit 5.1.1 reads the
 * file relative to the main config's folder and, for a YAML file with several entries, uses the last
 * (checked on the binary); it treats a bare name as a file path, where floki looks for the config's
 * own upstream_servers entry first.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { resolveForwardOutputConfig } from '../../src/outputs/forward/options.js';
import { PLUGINS } from '../../src/plugins.js';
import { lines, load, refused, writeFiles } from './config-kit.js';

const UPSTREAM_CONF = `[UPSTREAM]
    name       forward-balancing

[NODE]
    name       node-1
    host       127.0.0.1
    port       43000

[NODE]
    name       node-2
    host       127.0.0.2
    port       44000
    shared_key \${NODE_KEY}

[NODE]
    name       node-3
    host       127.0.0.3
    port       45000
`;

const classicMain = (upstream: string, more = '') => `[INPUT]
    Name dummy

[OUTPUT]
    Name     forward
    Match    *
    Upstream ${upstream}
${more}`;

function nodesOf(options: Record<string, unknown>) {
  return resolveForwardOutputConfig(options).nodes.map((n) => [n.name, n.host, n.port, n.security?.sharedKey]);
}

test('classic: Upstream names a file relative to the config; its nodes become the output\'s, variables replaced', (t) => {
  const dir = writeFiles(t, { 'main.conf': '@SET NODE_KEY=s3cret\n' + classicMain('upstream.conf'), 'upstream.conf': UPSTREAM_CONF });
  const r = load(join(dir, 'main.conf'), PLUGINS);
  assert.deepEqual(lines(r.problems), []);
  const options = r.config!.outputs[0]!.options;
  assert.equal(resolveForwardOutputConfig(options).upstreamName, 'forward-balancing');
  assert.deepEqual(nodesOf(options), [
    ['node-1', '127.0.0.1', 43000, undefined],
    ['node-2', '127.0.0.2', 44000, 's3cret'],
    ['node-3', '127.0.0.3', 45000, undefined],
  ]);
});

test('classic: a relative path from an @INCLUDEd file is taken from its folder, then the main file\'s; an absolute path as is', (t) => {
  const dir = writeFiles(t, {
    'main.conf': '@SET NODE_KEY=k\n[INPUT]\n    Name dummy\n@INCLUDE outputs/forward.conf\n',
    'outputs/forward.conf': '[OUTPUT]\n    Name     forward\n    Match    *\n    Upstream upstream.conf\n',
    'upstream.conf': UPSTREAM_CONF,
  });
  assert.equal(nodesOf(load(join(dir, 'main.conf'), PLUGINS).config!.outputs[0]!.options).length, 3, 'found beside the main file');
  const nested = writeFiles(t, {
    'main.conf': '@SET NODE_KEY=k\n[INPUT]\n    Name dummy\n@INCLUDE outputs/forward.conf\n',
    'outputs/forward.conf': '[OUTPUT]\n    Name     forward\n    Match    *\n    Upstream upstream.conf\n',
    'outputs/upstream.conf': '[UPSTREAM]\n    name beside\n[NODE]\n    name only\n    host 10.0.0.1\n    port 24224\n',
    'upstream.conf': UPSTREAM_CONF,
  });
  assert.deepEqual(nodesOf(load(join(nested, 'main.conf'), PLUGINS).config!.outputs[0]!.options), [['only', '10.0.0.1', 24224, undefined]], "the including file's folder first");
  const abs = writeFiles(t, { 'up.conf': UPSTREAM_CONF });
  const main = writeFiles(t, { 'main.conf': '@SET NODE_KEY=k\n' + classicMain(join(abs, 'up.conf')) });
  assert.equal(nodesOf(load(join(main, 'main.conf'), PLUGINS).config!.outputs[0]!.options).length, 3);
});

test('YAML: upstream names an upstream_servers entry of the config; YAML upstream files hold upstream_servers (the last counts)', (t) => {
  const dir = writeFiles(t, {
    'fb.yaml': `upstream_servers:
  - name: aggregators
    nodes:
      - name: agg-0
        host: floki-aggregator-0.floki-aggregator
        port: 24224
      - name: agg-1
        host: floki-aggregator-1.floki-aggregator
        port: 24224
        tls: on
        tls.verify: off
pipeline:
  inputs:
    - name: dummy
  outputs:
    - name: forward
      match: '*'
      upstream: aggregators
    - name: forward
      match: '*'
      upstream: up.yaml
`,
    'up.yaml': `upstream_servers:
  - name: first
    nodes:
      - { name: a, host: 10.0.0.1, port: 1 }
  - name: second
    nodes:
      - { name: b, host: 10.0.0.2, port: 2 }
`,
  });
  const r = load(join(dir, 'fb.yaml'), PLUGINS);
  assert.deepEqual(lines(r.problems), []);
  assert.deepEqual(lines(r.warnings), []);
  const [named, file] = r.config!.outputs.map((o) => resolveForwardOutputConfig(o.options));
  assert.equal(named!.upstreamName, 'aggregators');
  assert.deepEqual(named!.nodes.map((n) => [n.name, n.host, n.port, n.tls?.verify]), [
    ['agg-0', 'floki-aggregator-0.floki-aggregator', 24224, undefined],
    ['agg-1', 'floki-aggregator-1.floki-aggregator', 24224, false],
  ]);
  assert.equal(file!.upstreamName, 'second', 'the last entry of the file, as Fluent Bit 5.1.1 takes it');
  assert.deepEqual(file!.nodes.map((n) => n.name), ['b']);
});

test('mistakes are reported at their file and line: a missing file, a bad node value, an unknown node key, a missing host, an unset variable', (t) => {
  const dir = writeFiles(t, {
    'missing.conf': classicMain('nowhere.conf'),
    'bad-port.conf': classicMain('bad-port-upstream.conf'),
    'bad-port-upstream.conf': '[UPSTREAM]\n    name u\n[NODE]\n    name n1\n    host a\n    port 70000\n',
    'bad-key.conf': classicMain('bad-key-upstream.conf'),
    'bad-key-upstream.conf': '[UPSTREAM]\n    name u\n[NODE]\n    name n1\n    host a\n    compress gzip\n',
    'no-host.conf': classicMain('no-host-upstream.conf'),
    'no-host-upstream.conf': '[UPSTREAM]\n    name u\n[NODE]\n    name n1\n    port 1\n',
    'unset.conf': classicMain('upstream.conf'),
    'upstream.conf': UPSTREAM_CONF,
    'twice.conf': classicMain('twice-upstream.conf'),
    'twice-upstream.conf': '[UPSTREAM]\n    name u\n[NODE]\n    host a\n    Host b\n',
    'not-upstream.conf': classicMain('main-like.conf'),
    'main-like.conf': '[INPUT]\n    Name dummy\n',
    'unknown.yaml': "pipeline:\n  inputs:\n    - name: dummy\n  outputs:\n    - name: forward\n      match: '*'\n      upstream: aggregators\n",
  });
  const at = (file: string) => refused(join(dir, file), PLUGINS);
  assert.deepEqual(at('missing.conf'), [`missing.conf:7: upstream: cannot read ${join(dir, 'nowhere.conf')}: ENOENT: no such file`]);
  assert.deepEqual(at('bad-port.conf'), ['bad-port-upstream.conf:6: outputs[0] (forward): upstream node \'n1\': port: must be 1-65535, got 70000']);
  assert.deepEqual(at('bad-key.conf'), ["bad-key-upstream.conf:6: outputs[0] (forward): upstream node 'n1': key 'compress' is not supported per node by floki (set it on the output)"]);
  assert.deepEqual(at('no-host.conf'), ["no-host-upstream.conf:3: outputs[0] (forward): upstream node 'n1': missing host"]);
  assert.deepEqual(at('unset.conf'), ["upstream.conf:13: upstream 'forward-balancing': node key 'shared_key': variable 'NODE_KEY' is not set (in @SET or the environment)"]);
  assert.deepEqual(at('twice.conf'), ["twice-upstream.conf:5: upstream 'u': node key 'Host' is set twice"]);
  assert.deepEqual(at('not-upstream.conf'), ['main-like.conf:1: an upstream file holds [UPSTREAM] and [NODE] sections, not [INPUT]', 'main-like.conf:0: the upstream file has no [UPSTREAM] section']);
  assert.deepEqual(at('unknown.yaml'), [`unknown.yaml:7: upstream: 'aggregators' is neither an upstream_servers name of this config nor a file (${join(dir, 'aggregators')})`]);
});

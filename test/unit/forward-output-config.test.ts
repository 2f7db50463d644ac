/** The forward output's keys, tag templates and upstream nodes, as Fluent Bit reads them (and where floki differs, as documented). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveForwardOutputConfig } from '../../src/outputs/forward/options.js';
import { TagTemplate } from '../../src/outputs/forward/tag-template.js';
import { Upstream } from '../../src/outputs/forward/upstream.js';
import type { ForwardNode } from '../../src/outputs/forward/upstream-nodes.js';
import { PLUGINS } from '../../src/plugins.js';
import { lookupPlugin } from '../../src/core/registry-types.js';
import { parseConfig } from '../../src/config/load.js';

test('defaults are Fluent Bit 5.1.1 out_forward defaults (127.0.0.1:24224, Forward mode with metadata, no options, no acks) but 1 worker (one connection per node, several frames in flight on it)', () => {
  const c = resolveForwardOutputConfig({});
  assert.deepEqual(
    c.nodes.map((n) => [n.name, n.host, n.port, n.tls, n.security]),
    [['127.0.0.1:24224', '127.0.0.1', 24224, undefined, undefined]],
  );
  assert.equal(c.tag, undefined);
  assert.deepEqual(
    [c.timeAsInteger, c.sendOptions, c.requireAck, c.compress, c.retainMetadata, c.workers],
    [false, false, false, false, true, 1],
  );
  assert.equal(c.ackTimeoutMs, 190_000);
});

test('the forward input and output share their name, as in Fluent Bit: a config names each in its own section', () => {
  assert.equal(lookupPlugin(PLUGINS, 'input', 'forward')?.kind, 'input');
  assert.equal(lookupPlugin(PLUGINS, 'output', 'forward')?.kind, 'output');
  assert.equal(lookupPlugin(PLUGINS, 'output', 'loki')?.name, 'loki');
  assert.equal(lookupPlugin(PLUGINS, 'filter', 'loki'), undefined);
  assert.throws(
    () => parseConfig("pipeline:\n  inputs:\n    - name: dummy\n  outputs:\n    - name: forward\n      match: '*'\n      tls.ca_path: /etc/ssl\n", 'floki.yaml', PLUGINS, {}),
    /floki\.yaml:7: .*tls\.ca_path.*not supported by floki/,
  );
  const config = parseConfig("pipeline:\n  inputs:\n    - name: forward\n      port: 0\n  outputs:\n    - name: forward\n      match: '*'\n      port: 24225\n", 'floki.yaml', PLUGINS, {});
  assert.deepEqual([config.inputs[0]!.plugin.kind, config.outputs[0]!.plugin.kind], ['input', 'output']);
  assert.equal(config.outputs[0]!.options.port, 24225);
});

test('acks, gzip and add_option turn on send_options, as in Fluent Bit', () => {
  assert.equal(resolveForwardOutputConfig({ require_ack_response: true }).sendOptions, true);
  assert.equal(resolveForwardOutputConfig({ compress: 'GZIP' }).sendOptions, true);
  assert.equal(resolveForwardOutputConfig({ compress: 'text' }).compress, false);
  const c = resolveForwardOutputConfig({ add_option: ['foo bar', 'x y z'] });
  assert.equal(c.sendOptions, true);
  assert.deepEqual(c.extraOptions, [
    ['foo', 'bar'],
    ['x', 'z'],
  ]);
});

test('refused combinations and keys name the key', () => {
  const refused: [Record<string, unknown>, RegExp][] = [
    [{ compress: 'gzip', time_as_integer: true }, /time_as_integer/],
    [{ compress: 'gzip', tag: "$kubernetes['namespace_name']" }, /compress gzip cannot be combined with a tag that reads the record/],
    [{ compress: 'zstd' }, /compress: expected gzip or text, got 'zstd'/],
    [{ username: 'u', password: 'p' }, /username\/password need shared_key or empty_shared_key/],
    [{ add_option: ['lonely'] }, /add_option: expected 'key value'/],
    [{ add_option: ['chunk abc'] }, /'chunk' is an option floki sets itself/],
    [{ tag: 'x.$1' }, /regex captures/],
    [{ workers: 0 }, /workers/],
    [{ upstream: '/etc/fluent-bit/upstream.conf' }, /upstream: '\/etc\/fluent-bit\/upstream.conf' names an upstream file or upstream_servers entry, which only the config loader reads/],
    [{ tls: true, 'tls.ca_file': '/nonexistent/ca.pem' }, /tls\.ca_file: cannot read '\/nonexistent\/ca.pem': ENOENT/],
  ];
  for (const [options, message] of refused) assert.throws(() => resolveForwardOutputConfig(options), message, JSON.stringify(options));
});

test('shared_key, empty_shared_key, self_hostname and users make the handshake credentials', () => {
  assert.deepEqual(resolveForwardOutputConfig({ shared_key: 's', username: 'u', password: 'p' }).nodes[0]!.security, {
    sharedKey: 's',
    selfHostname: 'localhost',
    username: 'u',
    password: 'p',
  });
  assert.deepEqual(resolveForwardOutputConfig({ empty_shared_key: true, shared_key: 'ignored', self_hostname: 'n1' }).nodes[0]!.security, {
    sharedKey: '',
    selfHostname: 'n1',
    username: '',
    password: '',
  });
});

test('unix_path wins over host/port and upstream', () => {
  const c = resolveForwardOutputConfig({ unix_path: '/run/fwd.sock', upstream: [{ host: 'a' }] });
  assert.deepEqual(
    c.nodes.map((n) => [n.name, n.unixPath]),
    [['unix:/run/fwd.sock', '/run/fwd.sock']],
  );
});

test('upstream nodes: Fluent Bit [NODE] keys as text or typed, per-node TLS and key, the rest from the output', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'floki-fwd-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'ca.pem'), 'not really a CA');
  const c = resolveForwardOutputConfig({
    shared_key: 'output-key',
    self_hostname: 'me',
    upstream: {
      name: 'forward-balancing',
      nodes: [
        { name: 'node-1', host: '127.0.0.1', port: '43000' },
        { NAME: 'node-2', Host: '127.0.0.1', port: 44000, shared_key: 'node-key' },
        { name: 'node-3', host: 'agg.example', port: 45000, tls: 'on', 'tls.verify': 'off', 'tls.ca_file': join(dir, 'ca.pem') },
      ],
    },
  });
  assert.equal(c.upstreamName, 'forward-balancing');
  assert.deepEqual(
    c.nodes.map((n) => [n.name, n.host, n.port, n.security?.sharedKey, n.security?.selfHostname, n.tls?.verify, n.tls?.ca?.toString()]),
    [
      ['node-1', '127.0.0.1', 43000, 'output-key', 'me', undefined, undefined],
      ['node-2', '127.0.0.1', 44000, 'node-key', 'me', undefined, undefined],
      ['node-3', 'agg.example', 45000, 'output-key', 'me', false, 'not really a CA'],
    ],
  );
  writeFileSync(join(dir, 'bad.pem'), 'not a key');
  assert.throws(
    () => resolveForwardOutputConfig({ tls: true, 'tls.crt_file': join(dir, 'bad.pem'), 'tls.key_file': join(dir, 'bad.pem') }),
    /tls: cannot use the certificate files/,
    'a key that is not one is a config error, not a failure at the first connection',
  );
  const list = resolveForwardOutputConfig({ upstream: [{ host: 'a' }, { host: 'b', port: 1 }] });
  assert.deepEqual(
    list.nodes.map((n) => n.name),
    ['a:24224', 'b:1'],
  );
});

test('upstream nodes: keys that change the encoding, unknown keys and bad values are refused with the node named', () => {
  const refused: [unknown, RegExp][] = [
    [[{ name: 'n1', host: 'a', compress: 'gzip' }], /upstream node 'n1': key 'compress' is not supported per node by floki \(set it on the output\)/],
    [[{ host: 'a', 'tls.verify_hostname': 'on' }], /upstream node 1: tls.verify_hostname: not supported by floki/],
    [[{ name: 'n1', port: 1 }], /upstream node 'n1': missing host/],
    [[{ name: 'n1', host: 'a', port: 'x' }], /upstream node 'n1': port: expected an integer/],
    [[{ name: 'n', host: 'a' }, { name: 'n', host: 'b' }], /two nodes are named 'n'/],
    [[], /expected a list of nodes/],
    [{ name: 'g' }, /expected a list of nodes/],
  ];
  for (const [upstream, message] of refused) assert.throws(() => resolveForwardOutputConfig({ upstream }), message, JSON.stringify(upstream));
});

test("tag templates: $TAG, $TAG[n] and record keys, split and printed as Fluent Bit's record accessor does", () => {
  const record = { kubernetes: { namespace_name: 'prod', labels: { app: 'web' } }, n: 3, f: 1.5, yes: true, m: { a: 1 }, b: Buffer.from([0xab]), 'a.b': 'dotted' };
  const cases: [string, boolean, string][] = [
    ['fixed', true, 'fixed'],
    ['new.$TAG', true, 'new.kube.var.log'],
    ['$TAG[1].x', true, 'var.x'],
    ['$TAG[9]', true, ''],
    ["$kubernetes['namespace_name'].logs", false, 'prod.logs'],
    ["k8s.$kubernetes['labels']['app']", false, 'k8s.web'],
    ['$n.$f', false, '3.1.500000'],
    ['$yes,$missing.end', false, 'true,.end'],
    ['$m', false, '{"a":1}'],
    ['$b', false, 'ab'],
    ["$kubernetes['namespace_name'] $TAG", false, 'prod kube.var.log'],
  ];
  for (const [pattern, isStatic, expected] of cases) {
    const t = TagTemplate.compile(pattern);
    assert.equal(t.static, isStatic, `${pattern}: static`);
    assert.equal(t.render('kube.var.log', record), expected, pattern);
  }
});

function nodes(n: number): ForwardNode[] {
  return Array.from({ length: n }, (_, i) => ({ name: `n${i}`, host: '127.0.0.1', port: 1 + i }));
}

test('upstream balancing: round robin; a failed node is left out, back when its time comes or when it succeeds', (t) => {
  const changes: string[] = [];
  // random ~1: each wait is its ceiling, which doubles from 1 s.
  const u = new Upstream(nodes(3), { downMinMs: 1000, downMaxMs: 60_000, connectTimeoutMs: 100, keepalive: false, keepaliveIdleMs: 1000, random: () => 0.999999, onNodeState: (n, up) => changes.push(`${n.name}:${up ? 'up' : 'down'}`) });
  t.after(() => u.close());
  const now = 1_000_000;
  assert.deepEqual([0, 1, 2, 3].map(() => u.pick(now).node.name), ['n0', 'n1', 'n2', 'n0']);
  // peek: the node whose turn it is, the turn not taken (a frame waiting for room there).
  assert.deepEqual([u.peek(now).node.name, u.peek(now).node.name, u.pick(now).node.name, u.peek(now).node.name], ['n1', 'n1', 'n1', 'n2']);
  u.pick(now);
  u.pick(now);
  const n1 = u.states[1]!;
  assert.equal(u.failed(n1, now), 1000, 'out for the minimum first');
  assert.deepEqual([0, 1, 2, 3].map(() => u.pick(now).node.name), ['n2', 'n0', 'n2', 'n0']);
  assert.equal(u.hasAvailable(u.states[0], now), true);
  assert.equal(u.failed(n1, now + 1000), 2000, 'doubling while it keeps failing');
  assert.equal(u.pick(now + 3000).node.name, 'n1', 'tried again once due back');
  u.succeeded(n1);
  assert.equal(n1.up, true);
  assert.deepEqual(changes, ['n1:down', 'n1:up']);
});

test('upstream balancing: with every node out, the one due back first is tried', (t) => {
  const u = new Upstream(nodes(2), { downMinMs: 1000, downMaxMs: 60_000, connectTimeoutMs: 100, keepalive: false, keepaliveIdleMs: 1000, random: () => 0.999999 });
  t.after(() => u.close());
  u.failed(u.states[0]!, 0);
  u.failed(u.states[0]!, 0);
  u.failed(u.states[1]!, 0);
  assert.equal(u.hasAvailable(undefined, 10), false);
  assert.equal(u.pick(10).node.name, 'n1');
  assert.equal(u.nextBackAt(), 1000);
  assert.equal(u.states[0]!.downUntil, 2000);
});

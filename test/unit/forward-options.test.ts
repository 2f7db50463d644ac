import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/config/errors.js';
import { PLUGINS } from '../../src/plugins.js';
import { resolveForwardOptions } from '../../src/inputs/forward/options.js';

/** The forward input's options as a config file gives them, through the real validator. */
function forward(keys: string): Record<string, unknown> {
  const config = parseConfig(
    `pipeline:\n  inputs:\n    - name: forward\n${keys.replace(/^/gm, '      ')}\n  outputs:\n    - name: stdout\n      match: '*'\n`,
    'floki.yaml',
    PLUGINS,
  );
  return config.inputs[0]!.options;
}

function problems(keys: string): string {
  try {
    forward(keys);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message;
  }
  assert.fail('expected a config error');
}

test('defaults: no handshake, no TLS, no idle timeout, a connection limit, a frame timeout and a budget for unfinished frames', () => {
  const o = resolveForwardOptions(forward('port: 24224'));
  assert.equal(o.security, undefined);
  assert.equal(o.tls, undefined);
  assert.equal(o.ioTimeoutMs, 0);
  assert.equal(o.acceptTimeoutMs, 10_000);
  assert.equal(o.maxConnections, 1024);
  assert.equal(o.frameTimeoutMs, 60_000);
  assert.equal(o.bufferTotalLimit, 64 * 1024 * 1024);
  assert.equal(o.unixPath, undefined);
});

test('net.frame_timeout and buffer_total_limit_size; the budget is never under two frames of buffer_max_size', () => {
  const o = resolveForwardOptions(forward('net.frame_timeout: 5s\nbuffer_total_limit_size: 256M'));
  assert.equal(o.frameTimeoutMs, 5000);
  assert.equal(o.bufferTotalLimit, 256 * 1024 * 1024);
  assert.equal(resolveForwardOptions(forward('net.frame_timeout: 0')).frameTimeoutMs, 0);
  assert.equal(resolveForwardOptions(forward('buffer_max_size: 8M\nbuffer_total_limit_size: 1M')).bufferTotalLimit, 16 * 1024 * 1024);
});

test('shared key, self_hostname and users as Fluent Bit spells them', () => {
  const o = resolveForwardOptions(
    forward("shared_key: s3cret\nself_hostname: aggregator\nsecurity.users:\n  - alice wonder land\n  - 'bob builder'\nnet.io_timeout: 90s"),
  );
  assert.deepEqual(o.security, { sharedKey: 's3cret', selfHostname: 'aggregator', users: new Map([['alice', 'wonder land'], ['bob', 'builder']]) });
  assert.equal(o.ioTimeoutMs, 90_000);
  const empty = resolveForwardOptions(forward('empty_shared_key: on\nsecurity.users: alice pw'));
  assert.deepEqual(empty.security, { sharedKey: '', selfHostname: 'localhost', users: new Map([['alice', 'pw']]) });
});

test('TLS and unix socket options', () => {
  const o = resolveForwardOptions(forward('tls: on\ntls.crt_file: /c.pem\ntls.key_file: /k.pem\ntls.verify: on\ntls.ca_file: /ca.pem'));
  assert.deepEqual(o.tls, { crtFile: '/c.pem', keyFile: '/k.pem', keyPasswd: undefined, verify: true, caFile: '/ca.pem' });
  const u = resolveForwardOptions(forward("unix_path: /run/floki.sock\nunix_perm: '0660'"));
  assert.equal(u.unixPath, '/run/floki.sock');
  assert.equal(u.unixPerm, 0o660);
});

test('mistakes are reported with the key', () => {
  assert.match(problems('security.users: alice pw'), /security\.users: users need shared_key \(or empty_shared_key on\)/);
  assert.match(problems('shared_key: k\nsecurity.users: alice'), /security\.users: expected 'username password', got 'alice'/);
  assert.match(problems('tls: on\ntls.crt_file: /c.pem'), /tls: needs tls\.crt_file and tls\.key_file/);
  assert.match(problems('tls: on\ntls.crt_file: /c\ntls.key_file: /k\ntls.verify: on'), /tls\.verify: needs tls\.ca_file/);
  assert.match(problems("unix_path: /s\nunix_perm: 'rw'"), /unix_perm: expected octal permissions/);
  assert.match(problems('net.max_connections: -1'), /net\.max_connections/);
  assert.match(problems('shared_kye: x'), /unknown key 'shared_kye' \(did you mean 'shared_key'\?\)/);
});

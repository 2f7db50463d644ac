import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluateEmbeddedRuby, RubyRaise, UnsetSignal, UnsupportedRuby, type RubyContext } from '../../src/config/formats/fluentd/ruby-subset.js';

const ctx = (env: Record<string, string> = {}): RubyContext => ({ env, hostname: 'node-1', workerId: '0' });
const run = (code: string, env: Record<string, string> = {}): string => evaluateEmbeddedRuby(code, ctx(env));

/** fluentd-kubernetes-daemonset's kubernetes_url, in templates/conf/kubernetes.conf.erb since 2024. */
const KUBERNETES_URL =
  "ENV['FLUENT_FILTER_KUBERNETES_URL'] || (host = ENV.fetch('KUBERNETES_SERVICE_HOST'); port = ENV.fetch('KUBERNETES_SERVICE_PORT'); host = (IPAddr.new(host).ipv6? ? '[' + host + ']' : host rescue host); 'https://' + host + ':' + port + '/api')";
/** The same before it learned IPv6 (2020 to 2024). */
const KUBERNETES_URL_2020 = "ENV['FLUENT_FILTER_KUBERNETES_URL'] || 'https://' + ENV.fetch('KUBERNETES_SERVICE_HOST') + ':' + ENV.fetch('KUBERNETES_SERVICE_PORT') + '/api'";

test('ENV, ENV.fetch and ||: Ruby truthiness (an empty string is true, nil and false are not)', () => {
  assert.equal(run("ENV['X'] || 'default'"), 'default');
  assert.equal(run("ENV['X'] || 'default'", { X: 'set' }), 'set');
  assert.equal(run("ENV['X'] || 'default'", { X: '' }), '');
  assert.equal(run('ENV["X"]', { X: 'dq' }), 'dq');
  assert.equal(run("ENV['X']"), '');
  assert.equal(run("ENV['A'] || ENV['B'] || 'c'", { B: 'b' }), 'b');
  assert.equal(run("ENV.fetch('X', 'd')"), 'd');
  assert.equal(run("ENV.fetch('X', 'd')", { X: 'v' }), 'v');
  assert.equal(run("ENV.fetch('X', '')"), '');
  assert.equal(run("ENV['X'] || nil"), '');
  assert.equal(run("ENV['X'] || false"), 'false');
  assert.equal(run("ENV['X'] || true"), 'true');
  assert.equal(run("ENV['X'] || -1"), '-1');
  assert.equal(run("ENV['X'] || 1"), '1');
  assert.equal(run('1+1'), '2');
  assert.equal(run(''), '');
});

test('string literals: single quotes keep backslashes, double quotes escape and interpolate', () => {
  assert.equal(run("'a\\nb'"), 'a\\nb');
  assert.equal(run("'it\\'s'"), "it's");
  assert.equal(run('"a\\tb"'), 'a\tb');
  assert.equal(run('"#{ENV[\'X\']}-suffix"', { X: 'pre' }), 'pre-suffix');
  assert.equal(run('"}"'), '}');
  assert.equal(run("'https://' + 'host' + ':' + '443'"), 'https://host:443');
});

test('hostname, Socket.gethostname and worker_id', () => {
  assert.equal(run('hostname'), 'node-1');
  assert.equal(run('Socket.gethostname'), 'node-1');
  assert.equal(run('worker_id'), '0');
});

test("File.join as Ruby joins: one separator between parts, none added after a part's own", () => {
  assert.equal(run("File.join('/var/log/', ENV.fetch('FLUENT_POS_EXTRA_DIR', ''), 'fluentd-containers.log.pos')"), '/var/log/fluentd-containers.log.pos');
  assert.equal(run("File.join('/var/log/', ENV.fetch('FLUENT_POS_EXTRA_DIR', ''), 'fluentd-containers.log.pos')", { FLUENT_POS_EXTRA_DIR: 'extra' }), '/var/log/extra/fluentd-containers.log.pos');
  assert.equal(run("File.join('a', 'b')"), 'a/b');
  assert.equal(run("File.join('a/', '/b')"), 'a/b');
  assert.equal(run("File.join('a//', '/b')"), 'a/b');
  assert.equal(run("File.join('a', '')"), 'a/');
  assert.equal(run("File.join('', 'a')"), '/a');
  assert.equal(run("File.join('/', '/a')"), '/a');
  assert.equal(run("File.join('/', 'a')"), '/a');
  assert.equal(run('File.join()'), '');
  assert.throws(() => run("File.join('a', nil)"), (e: Error) => e instanceof RubyRaise && /no implicit conversion of nil into String/.test(e.message));
});

test("fluentd-kubernetes-daemonset's kubernetes_url, current and earlier, in and out of a cluster", () => {
  const v4 = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };
  const v6 = { KUBERNETES_SERVICE_HOST: 'fd00:10:96::1', KUBERNETES_SERVICE_PORT: '443' };
  const name = { KUBERNETES_SERVICE_HOST: 'kubernetes.default.svc', KUBERNETES_SERVICE_PORT: '6443' };
  assert.equal(run(KUBERNETES_URL, v4), 'https://10.96.0.1:443/api');
  assert.equal(run(KUBERNETES_URL, v6), 'https://[fd00:10:96::1]:443/api');
  assert.equal(run(KUBERNETES_URL, { ...v6, KUBERNETES_SERVICE_HOST: 'fe80::1%eth0' }), 'https://[fe80::1%eth0]:443/api');
  // IPAddr.new raises for a name; `rescue host` keeps it.
  assert.equal(run(KUBERNETES_URL, name), 'https://kubernetes.default.svc:6443/api');
  assert.equal(run(KUBERNETES_URL, { FLUENT_FILTER_KUBERNETES_URL: 'https://x/api' }), 'https://x/api');
  assert.equal(run(KUBERNETES_URL_2020, v4), 'https://10.96.0.1:443/api');
  assert.equal(run(KUBERNETES_URL_2020, v6), 'https://fd00:10:96::1:443/api');
  for (const code of [KUBERNETES_URL, KUBERNETES_URL_2020]) {
    assert.throws(() => run(code), (e: Error) => e instanceof RubyRaise && e.message.startsWith('KeyError: key not found: "KUBERNETES_SERVICE_HOST"'));
    assert.throws(() => run(code, { KUBERNETES_SERVICE_HOST: 'h' }), (e: Error) => e instanceof RubyRaise && /"KUBERNETES_SERVICE_PORT"/.test(e.message));
  }
  assert.equal(run("IPAddr.new('10.0.0.0/8').ipv4?"), 'true');
  assert.equal(run("IPAddr.new('[::1]').ipv6?"), 'true');
  assert.equal(run("(IPAddr.new('nope').ipv4? rescue 'no')"), 'no');
});

test("arguments are evaluated before the call, as Ruby does: ENV.fetch's default even when the variable is set", () => {
  assert.throws(() => run("ENV.fetch('X', use_nil)", { X: 'set' }), (e: Error) => e instanceof UnsetSignal && e.unset === 'nil');
  assert.throws(() => run("ENV.fetch('X', 'a' + nil)", { X: 'set' }), (e: Error) => e instanceof RubyRaise && /^TypeError/.test(e.message));
  assert.throws(() => run("ENV.fetch(nil, use_default)"), (e: Error) => e instanceof UnsetSignal && e.unset === 'default');
});

test('IPAddr.new with a prefix: a length or a netmask of the same family, else it raises', () => {
  assert.equal(run("IPAddr.new('10.0.0.0/255.0.0.0').ipv4?"), 'true');
  assert.equal(run("IPAddr.new('fd00::/64').ipv6?"), 'true');
  for (const addr of ['::1/', '10.0.0.1/33', '10.0.0.1/x', '10.0.0.1/::1']) {
    assert.throws(() => run(`IPAddr.new('${addr}').ipv6?`), RubyRaise, addr);
  }
});

test('locals, ;, parentheses, the conditional, and rescue (which catches what Ruby raises)', () => {
  assert.equal(run("a = 'x'; b = a + 'y'; b"), 'xy');
  assert.equal(run("a = ENV['X'] || 'd'\na + '!'"), 'd!');
  assert.equal(run("ENV['X'] ? 'yes' : 'no'"), 'no');
  assert.equal(run("ENV['X'] ? 'yes' : 'no'", { X: '' }), 'yes');
  assert.equal(run("ENV.fetch('X') rescue 'fallback'"), 'fallback');
  assert.equal(run("('a' + nil rescue 'b')"), 'b');
  assert.equal(run("'a' + 1 rescue 'c'"), 'c');
});

test('use_nil and use_default are signals that rescue does not catch', () => {
  for (const [code, unset] of [
    ['use_nil', 'nil'],
    ["ENV['X'] || use_default", 'default'],
    ['(use_nil rescue 1)', 'nil'],
  ] as const) {
    assert.throws(() => run(code), (e: Error) => e instanceof UnsetSignal && e.unset === unset, code);
  }
  assert.equal(run("ENV['X'] || use_default", { X: 'v' }), 'v');
});

test('what Ruby raises at run time is a RubyRaise naming the Ruby exception', () => {
  const cases: [string, RegExp][] = [
    ["ENV.fetch('MISSING')", /^KeyError: key not found: "MISSING"/],
    ["'a' + nil", /^TypeError: no implicit conversion of nil into String$/],
    ["1 + 'a'", /^TypeError: String can't be coerced into Integer$/],
    ['ENV[1]', /^TypeError: no implicit conversion of Integer into String$/],
    ["IPAddr.new('host').ipv6?", /^IPAddr::InvalidAddressError: invalid address: host$/],
    ["nil + 'a'", /^NoMethodError: undefined method '\+' for nil$/],
  ];
  for (const [code, message] of cases) assert.throws(() => run(code), (e: Error) => e instanceof RubyRaise && message.test(e.message), code);
});

test('anything outside the subset is refused before anything runs', () => {
  const refused = [
    '`ls`',
    "system('rm -rf /')",
    "File.read('/etc/passwd')",
    "ENV['X'].upcase",
    "ENV.fetch('X') { 'block' }",
    "ENV.fetch('A', 'b', 'c')",
    "require 'socket'",
    "Socket.gethostname.split('.')[0]",
    'test',
    "eval('1')",
    "$stdout.puts 'x'",
    '1 == 1',
    "ENV['X'] && 'y'",
    "ENV['X'] - 1",
    "'a' * 3",
    '%w(a b)',
    '[1, 2]',
    "{ 'a' => 1 }",
    '0x10',
    '1.5',
    ":sym",
    "Kernel::exit",
    "IPAddr.new('::1').to_s",
    'hostname()',
    "'unterminated",
    '"\\u00e9"',
    `(${'('.repeat(100)}1${')'.repeat(100)})`,
    'x'.repeat(5000),
  ];
  for (const code of refused) assert.throws(() => run(code), (e: Error) => e instanceof UnsupportedRuby, code);
  // A name assigned later is not a local yet, as in Ruby's parser.
  assert.throws(() => run("a; a = 'x'"), UnsupportedRuby);
});

test("300 generated expressions: floki's value, exception or use_nil/use_default is Ruby's", () => {
  // Evaluated by Ruby 3.1 as Fluentd evaluates embedded code ("#{code}" with the locals hostname and
  // worker_id), with X=x set and Y unset; see test/fixtures/fluentd/README.md.
  const file = join(import.meta.dirname, '..', 'fixtures', 'fluentd', 'ruby-subset-results.json');
  const cases = JSON.parse(readFileSync(file, 'utf8')) as { code: string; ok?: string; raise?: string; unset?: string }[];
  assert.equal(cases.length, 300);
  let evaluated = 0;
  for (const c of cases) {
    let mine: { ok?: string; raise?: string; unset?: string };
    try {
      mine = { ok: evaluateEmbeddedRuby(c.code, { env: { X: 'x' }, hostname: 'h', workerId: '0' }) };
    } catch (err) {
      if (err instanceof UnsupportedRuby) continue; // assignments inside expressions, which configs do not use
      if (err instanceof RubyRaise) mine = { raise: err.message.split(': ')[0] };
      else if (err instanceof UnsetSignal) mine = { unset: err.unset };
      else throw err;
    }
    evaluated++;
    const { code: _, ...ruby } = c;
    assert.deepEqual(mine, ruby, c.code);
  }
  assert.ok(evaluated >= 250, `only ${evaluated} evaluated`);
});

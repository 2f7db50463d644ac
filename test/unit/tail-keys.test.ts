/**
 * Every key Fluent Bit 5.1.1's tail input takes either works in floki, is accepted with a warning
 * (it changes nothing delivered), or is refused by --dry-run with the key and "not supported by
 * floki"; combinations Fluent Bit refuses, and names of parsers that do not exist, are refused with
 * the key; tags are composed as Fluent Bit composes them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/floki-process.js';
import { resolveTailOptions } from '../../src/inputs/tail/options.js';
import { tagForPath } from '../../src/inputs/tail/tag.js';
import { compileBoundedRegex } from '../../src/parsers/regex/bounded-regex.js';
import { PLUGINS } from '../../src/plugins.js';
import { lines, load, loaded, refused, writeFiles } from './config-kit.js';

/**
 * The keys of Fluent Bit 5.1.1's tail (plugins/in_tail/tail.c config map, and the keys of every input)
 * with a value it accepts; `parser_` is a prefix there (`parser_1`, `parser_2`, …).
 */
const FLUENT_BIT_TAIL_KEYS: Record<string, string> = {
  path: '/var/log/containers/*.log',
  exclude_path: '*.gz',
  key: 'log',
  read_from_head: 'true',
  read_newly_discovered_files_from_head: 'true',
  refresh_interval: '60',
  watcher_interval: '2s',
  progress_check_interval: '2s',
  progress_check_interval_nsec: '0',
  rotate_wait: '5',
  docker_mode: 'off',
  docker_mode_flush: '4',
  docker_mode_parser: 'docker',
  path_key: 'file',
  offset_key: 'offset',
  ignore_older: '1d',
  ignore_active_older_files: 'false',
  buffer_chunk_size: '32k',
  buffer_max_size: '32k',
  static_batch_size: '50M',
  event_batch_size: '50M',
  skip_long_lines: 'on',
  exit_on_eof: 'false',
  skip_empty_lines: 'false',
  truncate_long_lines: 'false',
  file_cache_advise: 'true',
  inotify_watcher: 'true',
  'windows.path_encoding': 'ansi',
  parser: 'docker',
  tag_regex: '(?<pod_name>[^_]+)_',
  db: '/tmp/tail.db',
  'db.sync': 'normal',
  'db.locking': 'false',
  'db.journal_mode': 'WAL',
  'db.compare_filename': 'false',
  multiline: 'off',
  multiline_flush: '4',
  parser_firstline: 'docker',
  parser_1: 'docker',
  'multiline.parser': 'cri',
  'unicode.encoding': 'UTF-16LE',
  'generic.encoding': 'ShiftJIS',
  tag: 'kube.*',
  mem_buf_limit: '5MB',
  threaded: 'on',
  'storage.type': 'memory',
  'storage.pause_on_chunks_overlimit': 'off',
  log_suppress_interval: '0',
  routable: 'true',
  alias: 'logs',
  log_level: 'info',
};

const STOCK_PARSERS = readFileSync(join(ROOT, 'configs', 'fluent-bit', 'parsers.conf'), 'utf8');
const conf = (keys: string) => `[SERVICE]\n    Parsers_File parsers.conf\n[INPUT]\n    Name tail\n${keys}[OUTPUT]\n    Name stdout\n    Match *\n`;
const entry = (k: string, v: string) => `    ${k} ${v}\n`;

test("every key of Fluent Bit's tail is floki's own, or accepted with a warning, or refused as not supported by floki: none is unknown", (t) => {
  for (const [key, value] of Object.entries(FLUENT_BIT_TAIL_KEYS)) {
    const keys = key === 'path' ? entry(key, value) : entry('path', '/var/log/*.log') + entry(key, value);
    const dir = writeFiles(t, { 'parsers.conf': STOCK_PARSERS, 'fb.conf': conf(keys) });
    const r = load(join(dir, 'fb.conf'), PLUGINS);
    const problems = lines(r.problems);
    assert.ok(!problems.some((p) => p.includes('unknown key')), `${key}: ${problems.join('; ')}`);
    const k = key.replace('.', '\\.');
    for (const p of problems) assert.match(p, new RegExp(`(key '${k}'|${k}: .*) is not supported by floki \\(`), key);
  }
});

test('the keys floki does not do are refused with the key, the line and the reason; SQLite and polling knobs are accepted with a warning', (t) => {
  const dir = writeFiles(t, {
    'parsers.conf': STOCK_PARSERS,
    'fb.conf': conf(entry('path', '/var/log/*.log') + entry('unicode.encoding', 'UTF-16LE') + entry('db.locking', 'true') + entry('db.journal_mode', 'delete') + entry('watcher_interval', '5s') + entry('progress_check_interval', '1s')),
  });
  assert.deepEqual(refused(join(dir, 'fb.conf'), PLUGINS), ["fb.conf:6: inputs[0] (tail): key 'unicode.encoding' is not supported by floki (floki reads files as UTF-8)"]);
  const fine = writeFiles(t, { 'parsers.conf': STOCK_PARSERS, 'fb.conf': conf(entry('path', '/var/log/*.log') + entry('db.locking', 'true') + entry('db.journal_mode', 'delete') + entry('watcher_interval', '5s') + entry('progress_check_interval', '1s')) });
  assert.deepEqual(
    lines(loaded(join(fine, 'fb.conf'), PLUGINS).warnings).map((w) => w.slice(0, w.indexOf(' has no effect in floki') + ' has no effect in floki'.length)),
    [6, 7, 8, 9].map((n, i) => `fb.conf:${n}: inputs[0] (tail): key '${['db.locking', 'db.journal_mode', 'watcher_interval', 'progress_check_interval'][i]}' has no effect in floki`),
  );
});

test('the new keys resolve: parser_N in config order, multiline_flush as a duration, db.sync as written', (t) => {
  const dir = writeFiles(t, {
    'parsers.conf': STOCK_PARSERS,
    'fb.conf': conf(
      entry('path', '/var/log/*.log') +
        entry('Multiline', 'On') +
        entry('Parser_Firstline', 'docker') +
        entry('Parser_2', 'json') +
        entry('Parser_1', 'cri') +
        entry('Multiline_Flush', '2') +
        entry('DB.Sync', 'FULL') +
        entry('Offset_Key', 'off') +
        entry('Exit_On_Eof', 'on'),
    ),
  });
  const o = loaded(join(dir, 'fb.conf'), PLUGINS).config.inputs[0]!.options;
  assert.deepEqual(o['parser_N'], [
    { option: 'parser_2', value: 'json' },
    { option: 'parser_1', value: 'cri' },
  ]);
  assert.deepEqual([o['multiline'], o['parser_firstline'], o['multiline_flush'], o['db.sync'], o['offset_key'], o['exit_on_eof']], [true, 'docker', 2000, 'FULL', 'off', true]);
});

test('--dry-run refuses what Fluent Bit refuses or cannot find, naming the key', (t) => {
  const cases: [string, string][] = [
    [entry('parser', 'nope'), "parser: no parser named 'nope'"],
    [entry('multiline.parser', 'cri, nope'), "multiline.parser: no multiline parser named 'nope'"],
    [entry('docker_mode', 'on') + entry('docker_mode_parser', 'nope'), "docker_mode_parser: no parser named 'nope'"],
    [entry('multiline', 'on'), 'multiline on needs parser_firstline'],
    [entry('multiline', 'on') + entry('parser_firstline', 'docker') + entry('parser_1', 'nope'), "parser_N: no parser named 'nope'"],
    [entry('multiline', 'on') + entry('parser_firstline', 'docker') + entry('docker_mode', 'on'), 'docker_mode cannot be on with multiline on (as in Fluent Bit)'],
    [entry('tag', 'kube.<pod_name.x') + entry('tag_regex', '(?<pod_name>[^_]+)'), "tag: missing closing angle bracket at position 5 in 'kube.<pod_name.x'"],
    [entry('tag_regex', '(?<a>x'), 'tag_regex:'],
    [entry('db.sync', 'sometimes'), "db.sync: expected extra, full, normal or off, got 'sometimes'"],
  ];
  for (const [keys, message] of cases) {
    const dir = writeFiles(t, { 'parsers.conf': STOCK_PARSERS, 'fb.conf': conf(entry('path', '/var/log/*.log') + keys) });
    const problems = refused(join(dir, 'fb.conf'), PLUGINS);
    assert.equal(problems.length, 1, `${message}: ${problems.join('; ')}`);
    assert.ok(problems[0]!.startsWith(`fb.conf:3: inputs[0] (tail): ${message}`), problems[0]);
  }
});

test('tags as Fluent Bit composes them: the first * is the path, sanitised; tag_regex fills <name>, _ for nothing', () => {
  assert.equal(tagForPath('kube.*', '/var/log/containers/a_b_c-1.log'), 'kube.var.log.containers.a_b_c-1.log');
  assert.equal(tagForPath('*', '/var/log/x.log'), 'var.log.x.log');
  assert.equal(tagForPath('app', '/var/log/x.log'), 'app');
  // Fluent Bit 5.1.1 (test/fixtures/tail/cases.json "tag-star"): the second * is dropped.
  assert.equal(tagForPath('a.*.b*c', '/d/api.log'), 'a.d.api.log.bc');
  // Fluent Bit 5.1.1 on a file named `we:ird\na..me.log` (by hand): `:` and `\` are dots, `..` one.
  assert.equal(tagForPath('k.*', '/tmp/c11/we:ird\\na..me.log'), 'k.tmp.c11.we.ird.na.me.log');
  const regex = compileBoundedRegex('(?<pod_name>[a-z0-9-]+)_(?<namespace_name>[^_]+)_(?<container_name>.+)-(?<docker_id>[a-z0-9]{64})\\.log$');
  const path = `/var/log/containers/api-1_shop_app-${'c'.repeat(64)}.log`;
  assert.equal(tagForPath('kube.<namespace_name>.<pod_name>.<container_name>.<nope>', path, regex), 'kube.shop.api-1.app._');
  assert.equal(tagForPath('kube.*.<pod_name>', path, regex), 'kube.*.api-1');
  assert.equal(tagForPath('kube.<pod_name>', '/var/log/other.log', regex), undefined);
  const optional = compileBoundedRegex('/(?<a>x)?(?<b>y)$/');
  assert.equal(tagForPath('t.<a>.<b>', '/y', optional), 't._.y');
});

test('keys Fluent Bit ignores beside others are ignored the same way, and said so at start', () => {
  const o = resolveTailOptions({ path: ['/x'], 'multiline.parser': ['cri', 'java'], parser: 'docker', docker_mode: true }, 'tail.0');
  assert.deepEqual(o.ignored.map((i) => i.key), ['parser', 'docker_mode']);
  const m = resolveTailOptions({ path: ['/x'], 'multiline.parser': ['python'], multiline: true, parser_firstline: 'first' }, 'tail.0');
  assert.deepEqual([m.ignored.map((i) => i.key), m.oldMultiline], [['multiline'], undefined]);
  assert.deepEqual([o.parser, o.dockerMode, o.oldMultiline, o.formats, o.multilineParsers], [undefined, undefined, undefined, ['cri'], ['java']]);
  const old = resolveTailOptions({ path: ['/x'], parser: 'docker', multiline: true, parser_firstline: 'first' }, 'tail.0');
  assert.deepEqual([old.ignored.map((i) => i.key), old.parser, old.oldMultiline?.firstline], [['parser'], undefined, 'first']);
  const docker = resolveTailOptions({ path: ['/x'], parser: 'docker', docker_mode: true, docker_mode_flush: 0 }, 'tail.0');
  assert.deepEqual([docker.ignored, docker.parser, docker.dockerMode], [[], 'docker', { flushMs: 1000, parser: undefined }]);
});

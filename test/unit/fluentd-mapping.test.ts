/**
 * The Fluentd front-end's mapping, row by row of the README's "Coming from Fluentd" tables: what
 * each directive, plugin, parameter and section becomes in floki's config model, and what is refused
 * (by name, with file and line) or ignored with a warning. The model is checked as the front-end
 * gives it, before the plugins validate it (some plugins it targets are built beside it).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DiskFiles } from '../../src/config/files.js';
import { detectFormat, looksLikeFluentd } from '../../src/config/formats/index.js';
import { readFluentdConfig } from '../../src/config/formats/fluentd/map/index.js';
import { retriesWithin } from '../../src/config/formats/fluentd/map/outputs.js';
import { accessorOf, durationOf, hashOf, listOf, sizeOf, timeFormatOf } from '../../src/config/formats/fluentd/map/values.js';
import type { ConfigModel, ConfigValue, PluginSection } from '../../src/config/model.js';
import { writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { fluentdTagPatternSource } from '../../src/config/formats/fluentd/tag-pattern.js';
import { loadConfig } from '../../src/config/load.js';
import { ParserRegistry } from '../../src/parsers/registry.js';
import { PLUGINS } from '../../src/plugins.js';
import { runs } from '../helpers/fuzz.js';
import { writeFiles } from './config-kit.js';

interface Mapped {
  model: ConfigModel;
  refused: string[];
  ignored: string[];
  dir: string;
}

function map(t: TestContext, conf: string, more: Record<string, string> = {}, env: Record<string, string> = {}): Mapped {
  const dir = writeFiles(t, { 'fluent.conf': conf, ...more });
  const front = readFluentdConfig(join(dir, 'fluent.conf'), new DiskFiles(), { env });
  assert.deepEqual(front.problems, []);
  const m = front.model;
  return {
    model: m,
    dir,
    refused: m.refused.map((r) => `${r.line}: ${r.name}: ${r.reason}`),
    ignored: m.ignored.map((r) => `${r.line}: ${r.name}: ${r.reason}`),
  };
}

/** A section's entries as key → value (a key given several times: the list of values). */
function keys(s: PluginSection | undefined): Record<string, ConfigValue> {
  assert.ok(s, 'no such section');
  const out: Record<string, ConfigValue> = {};
  for (const e of s.entries) {
    if (e.key in out) out[e.key] = ([] as ConfigValue[]).concat(out[e.key]!, e.value);
    else out[e.key] = e.value;
  }
  return out;
}

const has = (list: string[], part: string) => assert.ok(list.some((l) => l.includes(part)), `expected one of:\n${list.join('\n')}\nto contain ${part}`);

test('format detection: Fluentd by its first directive, Fluent Bit by its [SECTION]s', (t) => {
  assert.equal(looksLikeFluentd('# c\n\n<source>\n@type forward\n</source>'), true);
  assert.equal(looksLikeFluentd('@include a.conf\n<match **>\n'), true);
  assert.equal(looksLikeFluentd('<system>\n</system>'), true);
  assert.equal(looksLikeFluentd('<section1>\n  key1 a\n</section1>'), true, 'any <directive>: the mapper refuses one it does not know');
  assert.equal(looksLikeFluentd('[SERVICE]\n  flush 1\n'), false);
  assert.equal(looksLikeFluentd('@INCLUDE x.conf\n[INPUT]\n'), false);
  assert.equal(looksLikeFluentd('@SET a=b\n[INPUT]\n'), false);
  const dir = writeFiles(t, { 'a.conf': '<source>\n  @type forward\n</source>\n', 'b.conf': '[INPUT]\n  name dummy\n', 'c.yaml': 'pipeline: {}\n' });
  const files = new DiskFiles();
  assert.equal(detectFormat(join(dir, 'a.conf'), files), 'fluentd');
  assert.equal(detectFormat(join(dir, 'b.conf'), files), 'classic');
  assert.equal(detectFormat(join(dir, 'c.yaml'), files), 'yaml');
});

test('<source> @type forward: bind, port, add_tag_prefix, <security> with <user>s, <transport tls>', (t) => {
  const m = map(
    t,
    `<source>
  @type forward
  @id in_fwd
  bind 127.0.0.1
  port 24225
  add_tag_prefix fwd
  chunk_size_limit 8m
  <security>
    self_hostname aggregator
    shared_key s3cret
    user_auth true
    <user>
      username alice
      password pw1
    </user>
    <user>
      username bob
      password pw2
    </user>
  </security>
  <transport tls>
    cert_path /etc/tls/crt.pem
    private_key_path /etc/tls/key.pem
    private_key_passphrase pp
    client_cert_auth true
    ca_path /etc/tls/ca.pem
  </transport>
</source>
<match **>
  @type null
</match>`,
  );
  assert.deepEqual(m.refused, []);
  assert.deepEqual(keys(m.model.inputs[0]), {
    name: 'forward',
    port: '24225',
    listen: '127.0.0.1',
    tag_prefix: 'fwd.',
    buffer_max_size: String(8 * 1024 * 1024),
    shared_key: 's3cret',
    self_hostname: 'aggregator',
    'security.users': ['alice pw1', 'bob pw2'],
    tls: 'on',
    'tls.crt_file': '/etc/tls/crt.pem',
    'tls.key_file': '/etc/tls/key.pem',
    'tls.key_passwd': 'pp',
    'tls.ca_file': '/etc/tls/ca.pem',
    'tls.verify': 'on',
    alias: 'in_fwd',
  });
});

test('<source> @type forward: what would change delivery is refused with its line', (t) => {
  const m = map(
    t,
    `<source>
  @type forward
  source_hostname_key host
  <security>
    shared_key k
    allow_anonymous_source false
    <client>
      host 10.0.0.1
    </client>
  </security>
</source>
<match **>
  @type null
</match>`,
  );
  has(m.refused, '3: <source> @type forward: source_hostname_key host');
  has(m.refused, '6: <source> @type forward <security>: allow_anonymous_source false');
  has(m.refused, '<security> <client>');
});

test('<source> @type tail: paths, exclude_path, tag with *, read_from_head, pos_file, durations, <parse> json', (t) => {
  const m = map(
    t,
    `<source>
  @type tail
  @id in_tail_container_logs
  path /var/log/containers/*.log, /var/log/pods/*.log
  exclude_path ["/var/log/containers/fluent*"]
  pos_file /var/log/fluentd-containers.log.pos
  tag kubernetes.*
  read_from_head true
  rotate_wait 10s
  refresh_interval 30
  path_key source_path
  limit_recently_modified 1d
  multiline_flush_interval 5s
  follow_inodes true
  max_line_size 64k
  <parse>
    @type json
    time_format %Y-%m-%dT%H:%M:%S.%NZ
    keep_time_key true
  </parse>
</source>
<match **>
  @type null
</match>`,
  );
  assert.deepEqual(m.refused, []);
  const k = keys(m.model.inputs[0]);
  assert.equal(k.path, '/var/log/containers/*.log,/var/log/pods/*.log');
  assert.equal(k.exclude_path, '/var/log/containers/fluent*');
  assert.equal(k.tag, 'kubernetes.*');
  assert.equal(k.read_from_head, 'on');
  assert.equal(k.db, '/var/log/fluentd-containers.log.pos.floki');
  assert.equal(k.fluentd_pos_file, '/var/log/fluentd-containers.log.pos');
  assert.equal(k.rotate_wait, '10000ms');
  assert.equal(k.refresh_interval, '30000ms');
  assert.equal(k.ignore_older, '86400000ms');
  assert.equal(k.flush_timeout, '5000ms');
  assert.equal(k.path_key, 'source_path');
  assert.equal(k.buffer_max_size, String(64 * 1024));
  assert.equal(k.skip_long_lines, 'on');
  assert.equal(k.alias, 'in_tail_container_logs');
  const parser = m.model.parsers.find((p) => p.entries.some((e) => e.key === 'name' && e.value === k.parser));
  assert.ok(parser, 'the <parse> is defined as a parser');
  assert.deepEqual(Object.fromEntries(parser.entries.map((e) => [e.key, e.value])), {
    name: k.parser,
    format: 'json',
    time_key: 'time',
    time_format: '%Y-%m-%dT%H:%M:%S.%LZ',
    time_system_timezone: 'on',
    time_keep: 'on',
  });
});

test('<source> @type tail: encodings, time placeholders and a missing <parse> are refused', (t) => {
  const m = map(
    t,
    `<source>
  @type tail
  path /var/log/app-%Y%m%d.log
  encoding ISO-8859-1
  emit_unmatched_lines true
  tag app
</source>
<match **>
  @type null
</match>`,
  );
  has(m.refused, '3: <source> @type tail: path /var/log/app-%Y%m%d.log');
  has(m.refused, '4: <source> @type tail: encoding ISO-8859-1');
  has(m.refused, '5: <source> @type tail: emit_unmatched_lines true');
  has(m.refused, "1: <source> @type tail: it has no <parse>");
});

function parserOf(m: Mapped, name: ConfigValue | undefined): Record<string, string> {
  const p = [...m.model.parsers, ...m.model.multilineParsers].find((x) => x.entries.some((e) => e.key === 'name' && e.value === name));
  assert.ok(p, `no parser ${String(name)}`);
  return Object.fromEntries(p.entries.map((e) => [e.key, e.value]));
}

function tailWithParse(parse: string): string {
  return `<source>
  @type tail
  path /var/log/x.log
  tag x
  <parse>
${parse}
  </parse>
</source>
<match **>
  @type null
</match>`;
}

test('<parse> @type cri: the cri format (fluent-plugin-parser-cri: stream, logtag, message, the time text kept); a nested <parse> is its sub_parser', (t) => {
  const m = map(t, tailWithParse('    @type cri\n    time_format %Y-%m-%dT%H:%M:%S.%N%:z'));
  assert.deepEqual(m.refused, []);
  const p = parserOf(m, keys(m.model.inputs[0]).parser);
  assert.deepEqual(p, { name: p.name!, format: 'cri', time_format: '%Y-%m-%dT%H:%M:%S.%L%z' });
  const nested = map(t, tailWithParse('    @type cri\n    merge_cri_fields false\n    keep_time_key false\n    <parse>\n      @type json\n    </parse>'));
  assert.deepEqual(nested.refused, []);
  const outer = parserOf(nested, keys(nested.model.inputs[0]).parser);
  assert.equal(outer.merge_cri_fields, 'off');
  assert.equal(outer.time_keep, 'off');
  assert.equal(parserOf(nested, outer.sub_parser).format, 'json');
});

test('<parse> @type regexp: expression, time_key, time_format, types; Ruby flags refused', (t) => {
  const m = map(t, tailWithParse('    @type regexp\n    expression /^(?<time>[^ ]+) (?<level>\\w+) (?<n>\\d+)$/\n    time_format %d/%b/%Y:%H:%M:%S %z\n    types n:integer,level:string'));
  assert.deepEqual(m.refused, []);
  const p = parserOf(m, keys(m.model.inputs[0]).parser);
  assert.deepEqual(p, { name: p.name!, format: 'regex', regex: '^(?<time>[^ ]+) (?<level>\\w+) (?<n>\\d+)$', time_key: 'time', time_format: '%d/%b/%Y:%H:%M:%S %z', time_system_timezone: 'on', time_keep: 'off', types: 'n:integer level:string' });
  const utc = map(t, tailWithParse('    @type json\n    time_format %d/%b/%Y:%H:%M:%S\n    utc true'));
  assert.equal(parserOf(utc, keys(utc.model.inputs[0]).parser).time_system_timezone, undefined, 'utc: no system time zone');
  const flagged = map(t, tailWithParse('    @type regexp\n    expression /^(?<a>.*)$/i\n    multiline true'));
  assert.deepEqual(flagged.refused, []);
  assert.equal(parserOf(flagged, keys(flagged.model.inputs[0]).parser).regex, '/^(?<a>.*)$/im');
  has(map(t, tailWithParse('    @type regexp\n    expression /^(?<a>.*)$/q')).refused, "expression flags 'q'");
});

test('<parse> @type none, kubernetes, multi_format, syslog; an unknown parser is refused by name', (t) => {
  const none = map(t, tailWithParse('    @type none\n    message_key log'));
  assert.deepEqual(parserOf(none, keys(none.model.inputs[0]).parser), { name: keys(none.model.inputs[0]).parser as string, format: 'none', message_key: 'log' });
  const k8s = map(t, tailWithParse('    @type kubernetes'));
  assert.equal(parserOf(k8s, keys(k8s.model.inputs[0]).parser).format, 'kubernetes');
  const multi = map(t, tailWithParse('    @type multi_format\n    <pattern>\n      format json\n    </pattern>\n    <pattern>\n      format none\n    </pattern>'));
  assert.deepEqual(multi.refused, []);
  const mp = parserOf(multi, keys(multi.model.inputs[0]).parser);
  assert.equal(mp.format, 'multi_format');
  const [first, second] = mp.parsers!.split(',');
  assert.equal(parserOf(multi, first).format, 'json');
  assert.equal(parserOf(multi, second).format, 'none');
  const syslog = map(t, tailWithParse('    @type syslog'));
  const sp = parserOf(syslog, keys(syslog.model.inputs[0]).parser);
  assert.deepEqual({ ...new RegExp(sp.regex!).exec('Dec  2 10:00:00 node1 kubelet[123]: started')!.groups }, { time: 'Dec  2 10:00:00', host: 'node1', ident: 'kubelet', pid: '123', message: 'started' });
  has(map(t, tailWithParse('    @type apache2')).refused, '<parse> @type apache2');
});

test('<parse> @type multiline: format_firstline and format1..N as one multiline parser and one regex parser', (t) => {
  const m = map(t, tailWithParse('    @type multiline\n    format_firstline /^\\d{4}-/\n    format1 /^(?<time>\\S+) (?<level>\\w+)/\n    format2 / (?<message>.*)/\n    time_format %Y-%m-%dT%H:%M:%S%z'));
  assert.deepEqual(m.refused, []);
  const k = keys(m.model.inputs[0]);
  assert.equal(k.parser, undefined);
  const ml = m.model.multilineParsers[0]!;
  assert.equal(ml.entries.find((e) => e.key === 'name')!.value, k['multiline.parser']);
  assert.deepEqual(
    ml.rules!.map((r) => [r.state, r.regex, r.nextState]),
    [
      ['start_state', '/^\\d{4}-/', 'cont'],
      ['cont', '/^(?!\\d{4}-)/', 'cont'],
    ],
  );
  const unanchored = map(t, tailWithParse('    @type multiline\n    format_firstline /\\d{4}-/\n    format1 /(?<message>.*)/'));
  assert.equal(unanchored.model.multilineParsers[0]!.rules![1]!.regex, '/^(?!.*(?:\\d{4}-))/');
  const joined = parserOf(m, ml.entries.find((e) => e.key === 'parser')!.value);
  assert.equal(joined.regex, '/^(?<time>\\S+) (?<level>\\w+) (?<message>.*)/m');
  // As Fluentd's /m regexp: the joined entry's lines all go into `message`.
  const registry = new ParserRegistry();
  for (const spec of m.model.parsers) assert.deepEqual(registry.define(spec), []);
  for (const spec of m.model.multilineParsers) assert.deepEqual(registry.defineMultiline(spec), []);
  assert.deepEqual(registry.validate(), []);
  assert.deepEqual(registry.parser(joined.name!)!.parse('2026-12-02T10:00:00+0000 ERROR first\n  at second')!.record, { level: 'ERROR', message: 'first\n  at second' });
});

test('<source> @type http, sample/dummy, prometheus; systemd refused by name', (t) => {
  const m = map(
    t,
    `<source>
  @type http
  bind 0.0.0.0
  port 9880
  body_size_limit 32m
  add_remote_addr true
  cors_allow_origins ["*"]
</source>
<source>
  @type sample
  tag sample.x
  rate 5
  sample [{"message":"hi"}]
</source>
<source>
  @type prometheus
  bind 127.0.0.1
  port 24231
</source>
<source>
  @type systemd
  tag systemd
</source>
<match **>
  @type null
</match>`,
  );
  assert.deepEqual(keys(m.model.inputs[0]), { name: 'http', port: '9880', listen: '0.0.0.0', buffer_max_size: String(32 * 1024 * 1024), add_remote_addr: 'on' });
  has(m.refused, '7: <source> @type http: cors_allow_origins');
  const tls = map(t, '<source>\n  @type http\n  port 9880\n  @log_level debug\n  <transport tls>\n    cert_path /c.pem\n    private_key_path /k.pem\n  </transport>\n</source>\n<match **>\n  @type null\n</match>');
  assert.deepEqual(tls.refused, []);
  assert.deepEqual(keys(tls.model.inputs[0]), { name: 'http', port: '9880', tls: 'on', 'tls.crt_file': '/c.pem', 'tls.key_file': '/k.pem' });
  has(tls.ignored, '4: <source> @type http: @log_level');
  assert.deepEqual(keys(m.model.inputs[1]), { name: 'dummy', tag: 'sample.x', rate: '5', dummy: '{"message":"hi"}' });
  assert.deepEqual(
    m.model.service.flatMap((s) => s.entries.map((e) => [e.key, e.value])),
    [
      ['http_server', 'on'],
      ['http_listen', '127.0.0.1'],
      ['http_port', '24231'],
    ],
  );
  has(m.refused, '21: <source> @type systemd: floki has no such input');
  assert.equal(m.model.inputs.length, 2);
});

test('<filter> @type kubernetes_metadata: the kubernetes filter with record_layout fluentd', (t) => {
  const m = map(
    t,
    `<filter kubernetes.**>
  @type kubernetes_metadata
  @id filter_kube_metadata
  kubernetes_url https://10.0.0.1:443/api
  verify_ssl false
  ca_file
  bearer_token_file /var/run/secrets/token
  skip_labels false
  skip_container_metadata true
  skip_master_url false
  skip_namespace_metadata false
  annotation_match ["^app\\\\.io/"]
  de_dot false
  de_dot_separator _
  cache_size 2000
  cache_ttl 1h
  watch true
</filter>
<match **>
  @type null
</match>`,
  );
  assert.deepEqual(m.refused, []);
  const k = keys(m.model.filters[0]);
  assert.equal(k.name, 'kubernetes');
  assert.equal(k.record_layout, 'fluentd');
  assert.equal(k.kube_url, 'https://10.0.0.1:443/api');
  assert.equal(k['tls.verify'], 'off');
  assert.equal(k.kube_ca_file, undefined, 'an empty ca_file (the daemonset without KUBERNETES_CA_FILE) is not set');
  assert.equal(k.kube_token_file, '/var/run/secrets/token');
  assert.equal(k.skip_container_metadata, 'true');
  assert.equal(k.de_dot, 'false');
  assert.deepEqual(k.annotation_match, ['^app\\.io/']);
  assert.equal(k.kube_meta_cache_size, '2000');
  assert.equal(k.kube_meta_cache_ttl, '3600000ms');
  assert.equal(k.alias, 'filter_kube_metadata');
  assert.ok(typeof k.match_regex === 'string' && new RegExp(k.match_regex).test('kubernetes.var.log.containers.a.log'));
  has(m.ignored, '17: <filter kubernetes.**> @type kubernetes_metadata: watch');
});

test('<filter> record_transformer, grep, parser, concat, stdout; others refused by name', (t) => {
  const m = map(
    t,
    `<filter a.**>
  @type record_transformer
  enable_ruby false
  remove_keys $.kubernetes.pod_id,tmp
  <record>
    hostname "#{Socket.gethostname}"
    tag \${tag}
    app \${record["kubernetes"]["labels"]["app"]}
  </record>
</filter>
<filter a.**>
  @type grep
  <regexp>
    key $.kubernetes.namespace_name
    pattern /^prod-/
  </regexp>
  <exclude>
    key level
    pattern debug
  </exclude>
  regexp1 message ^GET
</filter>
<filter a.**>
  @type parser
  key_name log
  reserve_data true
  remove_key_name_field true
  <parse>
    @type json
  </parse>
</filter>
<filter a.**>
  @type concat
  key log
  multiline_start_regexp /^\\d{4}/
  flush_interval 5
  use_partial_cri_logtag true
  use_partial_metadata false
</filter>
<filter a.**>
  @type stdout
</filter>
<filter a.**>
  @type detect_exceptions
</filter>
<match **>
  @type null
</match>`,
    {},
  );
  const [rt, grep, grepEx, parser, concat, stdout] = m.model.filters.map(keys);
  assert.deepEqual(rt!.record, { hostname: rt!.record && (rt!.record as Record<string, string>).hostname!, tag: '${tag}', app: '${record["kubernetes"]["labels"]["app"]}' });
  assert.equal(rt!.remove_keys, '$.kubernetes.pod_id,tmp');
  assert.equal(rt!.enable_ruby, 'false');
  // Every regexp must match; any exclude drops: two grep filters, one after the other.
  assert.deepEqual(grep, { name: 'grep', logical_op: 'and', regex: ["$kubernetes['namespace_name'] ^prod-", 'message ^GET'], match_regex: grep!.match_regex! });
  assert.deepEqual(grepEx, { name: 'grep', logical_op: 'or', exclude: 'level debug', match_regex: grep!.match_regex! });
  assert.equal(parser!.record_layout, 'fluentd');
  assert.equal(parser!.key_name, 'log');
  assert.equal(parser!.reserve_data, 'true');
  assert.equal(parser!.remove_key_name_field, 'true');
  assert.equal(parserOf(m, parser!.parser).format, 'json');
  assert.equal(concat!.use_partial_metadata, 'false');
  assert.deepEqual({ name: concat!.name, key: concat!.key, multiline_start_regexp: concat!.multiline_start_regexp, flush_interval: concat!.flush_interval, use_partial_cri_logtag: concat!.use_partial_cri_logtag }, {
    name: 'concat',
    key: 'log',
    multiline_start_regexp: '/^\\d{4}/',
    flush_interval: '5',
    use_partial_cri_logtag: 'true',
  });
  assert.equal(stdout!.name, 'stdout');
  assert.equal(stdout!.format, 'fluentd');
  assert.deepEqual(m.refused.filter((r) => !r.includes('detect_exceptions')), []);
  has(m.refused, '44: <filter a.**> @type detect_exceptions: floki has no such filter');
});

test('<match> @type loki: fluent-plugin-grafana-loki keys onto the loki output', (t) => {
  const m = map(
    t,
    `<match kubernetes.**>
  @type loki
  url "https://logs.example/"
  username "#{ENV['LOKI_USERNAME']}"
  password "#{ENV['LOKI_PASSWORD']}"
  bearer_token_file /var/run/token
  tenant \${$.kubernetes.labels.tenant}
  extra_labels {"env":"dev", "datacenter": "dc1"}
  extract_kubernetes_labels true
  remove_keys kubernetes, $.docker.container_id
  line_format json
  drop_single_key true
  include_thread_label true
  cert /path/cert.pem
  key /path/key.key
  ca_cert /path/ca.pem
  insecure_tls true
  custom_headers {"X-Scope": "a"}
  compress gzip
  <label>
    fluentd_worker
    container $.kubernetes.container
    app.kubernetes.io/name $.kubernetes.labels.app
  </label>
  <buffer>
    flush_interval 10s
    flush_thread_count 2
  </buffer>
</match>`,
    {},
    { LOKI_USERNAME: 'u', LOKI_PASSWORD: 'p' },
  );
  assert.deepEqual(m.refused, []);
  const k = keys(m.model.outputs[0]);
  assert.equal(k.url, 'https://logs.example/loki/api/v1/push');
  assert.equal(k.http_user, 'u');
  assert.equal(k.http_passwd, 'p');
  assert.equal(k.bearer_token_file, '/var/run/token');
  assert.equal(k.tenant_id_key, "$kubernetes['labels']['tenant']");
  assert.deepEqual(k.labels, ['fluentd_worker=$fluentd_worker', "container=$kubernetes['container']", "app_kubernetes_io_name=$kubernetes['labels']['app']", 'env=dev', 'datacenter=dc1', 'fluentd_thread=flush_thread_0']);
  assert.deepEqual(k.remove_keys, ['kubernetes', "$docker['container_id']"]);
  assert.equal(k.extract_kubernetes_labels, 'on');
  assert.equal(k.line_format, 'json');
  assert.equal(k.drop_single_key, 'raw');
  assert.equal(k['tls.crt_file'], '/path/cert.pem');
  assert.equal(k['tls.key_file'], '/path/key.key');
  assert.equal(k['tls.ca_file'], '/path/ca.pem');
  assert.equal(k['tls.verify'], 'off');
  assert.equal(k.tls, 'on');
  assert.deepEqual(k.header, ['X-Scope a']);
  assert.equal(k.batch_wait, '10000ms');
  assert.equal(k.workers, '2');
  has(m.ignored, '19: <match kubernetes.**> @type loki: compress');
});

test('<match> @type loki: the plugin defaults (key_value lines, no thread label with one flush thread, a constant tenant)', (t) => {
  const m = map(t, `<match **>\n  @type loki\n  url http://loki:3100\n  tenant team-a\n</match>\n<match x>\n  @type loki\n  url http://l\n  tenant a-\${tag}-\${x}\n</match>`);
  const k = keys(m.model.outputs[0]);
  assert.equal(k.url, 'http://loki:3100/loki/api/v1/push');
  assert.equal(k.line_format, 'fluentd_key_value');
  assert.deepEqual(k.labels, []);
  assert.deepEqual(m.model.warnings, [{ file: join(m.dir, 'fluent.conf'), line: 1, message: "<match **> @type loki: no extra_labels and no <label>: Loki refuses a stream without labels (as it refuses the plugin's)" }, { file: join(m.dir, 'fluent.conf'), line: 6, message: "<match x> @type loki: no extra_labels and no <label>: Loki refuses a stream without labels (as it refuses the plugin's)" }]);
  assert.equal(k.tenant_id, 'team-a');
  has(m.refused, '9: <match x> @type loki: tenant a-${tag}-${x}');
});

test('<buffer>: Fluentd defaults where silent; file buffer, limits, retries, overflow; timekey and <secondary> refused', (t) => {
  const silent = keys(map(t, '<match **>\n  @type loki\n  url http://l\n</match>').model.outputs[0]);
  assert.equal(silent.batch_wait, '60000ms');
  assert.equal(silent.mem_buf_limit, String(512 * 1024 * 1024));
  assert.equal(silent.retry_min_backoff, '1000ms');
  assert.equal(silent.retry_limit, String(retriesWithin(72 * 3600 * 1000, 1000, 2, undefined)));
  assert.equal(retriesWithin(72 * 3600 * 1000, 1000, 2, undefined), 17);
  const m = map(
    t,
    `<match **>
  @type loki
  url http://l
  <buffer tag, $.kubernetes.namespace_name>
    @type file
    path /var/log/fluentd-buffers/loki.buffer
    flush_mode interval
    flush_interval 5s
    chunk_limit_size 2m
    total_limit_size 1g
    flush_thread_count 4
    retry_wait 2s
    retry_max_interval 60s
    retry_forever true
    overflow_action drop_oldest_chunk
    flush_at_shutdown true
  </buffer>
</match>`,
  );
  assert.deepEqual(m.refused, []);
  const k = keys(m.model.outputs[0]);
  assert.equal(k['storage.type'], 'filesystem');
  assert.equal(k.batch_wait, '5000ms');
  assert.equal(k.batch_size, String(2 * 1024 * 1024));
  assert.equal(k['storage.total_limit_size'], String(1024 ** 3));
  assert.equal(k.workers, '4');
  assert.equal(k.retry_min_backoff, '2000ms');
  assert.equal(k.retry_max_backoff, '60000ms');
  assert.equal(k.retry_limit, 'no_limits');
  assert.equal(k['storage.full_action'], 'drop_oldest');
  assert.deepEqual(m.model.service.flatMap((s) => s.entries.map((e) => [e.key, e.value])), [['storage.path', '/var/log/fluentd-buffers/loki.buffer']]);
  const immediate = keys(map(t, '<match **>\n  @type loki\n  url http://l\n  <buffer>\n    flush_mode immediate\n    retry_max_times 3\n    queue_limit_length 8\n    overflow_action block\n  </buffer>\n</match>').model.outputs[0]);
  assert.equal(immediate['storage.full_action'], undefined, 'block: floki pauses the inputs, its default');
  has(map(t, '<match **>\n  @type loki\n  url http://l\n  <buffer>\n    overflow_action drop_oldest_chunk\n  </buffer>\n</match>').refused, 'drop_oldest_chunk');
  // A flush_mode Fluentd does not know is refused at its line; lazy (only full chunks) is sent sooner, with a warning.
  has(map(t, '<match **>\n  @type loki\n  url http://l\n  extra_labels {"job":"x"}\n  <buffer>\n    flush_mode sometimes\n  </buffer>\n</match>').refused, '6: <match **> @type loki <buffer> flush_mode sometimes');
  const lazy = map(t, '<match **>\n  @type loki\n  url http://l\n  extra_labels {"job":"x"}\n  <buffer>\n    flush_mode lazy\n  </buffer>\n</match>');
  assert.deepEqual(lazy.refused, []);
  assert.ok((lazy.model.warnings ?? []).some((w) => w.line === 6 && /flush_mode lazy/.test(w.message)), JSON.stringify(lazy.model.warnings));
  assert.equal(immediate.batch_wait, '0ms');
  assert.equal(immediate.retry_limit, '3');
  const bad = map(t, '<match **>\n  @type loki\n  url http://l\n  <buffer time>\n    timekey 1h\n  </buffer>\n  <secondary>\n    @type file\n  </secondary>\n</match>');
  has(bad.refused, '5: <match **> @type loki <buffer time>: timekey 1h');
  has(bad.refused, '<secondary>');
});

test('<match> @type forward: <server>, <security>, tls, acks; a standby server refused', (t) => {
  const m = map(
    t,
    `<match **>
  @type forward
  transport tls
  tls_cert_path /ca.pem
  tls_verify_hostname false
  require_ack_response true
  ack_response_timeout 30
  compress gzip
  <security>
    self_hostname node1
    shared_key k
  </security>
  <server>
    host agg.example
    port 24224
  </server>
  <server>
    host agg2.example
    standby true
  </server>
</match>`,
  );
  const k = keys(m.model.outputs[0]);
  assert.deepEqual(
    { host: k.host, port: k.port, tls: k.tls, ca: k['tls.ca_file'], verify: k['tls.verify'], ack: k.require_ack_response, timeout: k.ack_response_timeout, compress: k.compress, key: k.shared_key, self: k.self_hostname },
    { host: 'agg.example', port: '24224', tls: 'on', ca: '/ca.pem', verify: 'off', ack: 'on', timeout: '30000ms', compress: 'gzip', key: 'k', self: 'node1' },
  );
  has(m.refused, '17: <match **> @type forward: a second <server>');
});

test('<match> @type stdout with <format json>; unknown outputs refused by name', (t) => {
  const m = map(t, '<match a>\n  @type stdout\n  <format>\n    @type json\n  </format>\n</match>\n<match b>\n  @type elasticsearch\n  host es\n</match>');
  assert.deepEqual(keys(m.model.outputs[0]), { name: 'stdout', format: 'json_lines', json_date_key: 'false', match_regex: keys(m.model.outputs[0]).match_regex! });
  const plain = map(t, '<match **>\n  @type stdout\n  output_type hash\n</match>');
  assert.equal(keys(plain.model.outputs[0]).format, 'fluentd');
  has(plain.refused, "3: <match **> @type stdout: output_type hash");
  has(m.refused, '8: <match b> @type elasticsearch: floki has no such output');
});

test('directives: <system>, <worker 0>, @log_level, @id; <label @FLUENT_LOG> / @ERROR only when they drop; undefined labels and relabel loops refused', (t) => {
  const m = map(
    t,
    `<system>
  log_level warn
  root_dir /var/lib/fluentd
  workers 1
  suppress_repeated_stacktrace true
</system>
<worker 0>
  <source>
    @type forward
    @label @MAIN
  </source>
</worker>
<worker 1>
  <source>
    @type forward
  </source>
</worker>
<label @FLUENT_LOG>
  <match **>
    @type null
  </match>
</label>
<label @ERROR>
  <match **>
    @type stdout
  </match>
</label>
<label @MAIN>
  <match a>
    @type relabel
    @label @OTHER
  </match>
  <match **>
    @type relabel
    @label @NOWHERE
  </match>
</label>
<label @OTHER>
  <match **>
    @type relabel
    @label @MAIN
    @log_level debug
  </match>
</label>`,
  );
  assert.deepEqual(
    m.model.service.flatMap((s) => s.entries.map((e) => [e.key, e.value])),
    [
      ['log_level', 'warn'],
      ['storage.path', '/var/lib/fluentd'],
    ],
  );
  has(m.ignored, '5: <system>: suppress_repeated_stacktrace');
  has(m.refused, '13: <worker 1>');
  has(m.ignored, '18: <label @FLUENT_LOG>');
  has(m.refused, "23: <label @ERROR>: floki has no error stream");
  has(m.refused, '33: @label @NOWHERE: no <label> of that name');
  has(m.refused, 'the labels relabel in a loop');
  assert.equal(m.model.inputs[0]!.routeGroup, '@MAIN');
  const relabels = m.model.outputs.filter((o) => o.relabel !== undefined).map((o) => [o.routeGroup, o.relabel]);
  assert.deepEqual(relabels, [
    ['@MAIN', '@OTHER'],
    ['@MAIN', '@NOWHERE'],
    ['@OTHER', '@MAIN'],
  ]);
  const bad = map(t, '<system>\n  workers 4\n</system>\n<match **>\n  @type null\n</match>');
  has(bad.refused, '2: <system> workers 4');
});

test('copy: one output per <store>; copy_mode ignored, ignore_error refused', (t) => {
  const m = map(t, '<match **>\n  @type copy\n  copy_mode deep\n  <store>\n    @type null\n  </store>\n  <store ignore_error>\n    @type stdout\n  </store>\n</match>\n<match x>\n  @type copy\n  ignore_error true\n  <store>\n    @type null\n  </store>\n</match>');
  assert.deepEqual(
    m.model.outputs.map((o) => keys(o).name),
    ['null', 'stdout', 'null'],
  );
  assert.equal(keys(m.model.outputs[0]).match_regex, keys(m.model.outputs[1]).match_regex);
  has(m.ignored, '3: <match **> @type copy: copy_mode');
  has(m.refused, '13: <match x> @type copy: ignore_error true');
});

test('record accessors and time formats in floki form', () => {
  assert.equal(accessorOf('$.kubernetes.labels.app'), "$kubernetes['labels']['app']");
  assert.equal(accessorOf("$['kubernetes']['pod_name']"), "$kubernetes['pod_name']");
  assert.equal(accessorOf('$.a.b[0]'), "$a['b'][0]");
  assert.equal(accessorOf('log'), 'log');
  assert.equal(timeFormatOf('%Y-%m-%dT%H:%M:%S.%N%:z'), '%Y-%m-%dT%H:%M:%S.%L%z');
  assert.equal(timeFormatOf('%Y-%m-%dT%H:%M:%S.%3N'), '%Y-%m-%dT%H:%M:%S.%L');
  assert.deepEqual(listOf('["/a/*.log", "/b, c"]'), ['/a/*.log', '/b, c']);
  assert.deepEqual(listOf(' a, b ,,c '), ['a', 'b', 'c']);
  assert.deepEqual(hashOf('{"a":"x","n":1}'), { a: 'x', n: '1' });
  assert.deepEqual(hashOf('a:x, b:y'), { a: 'x', b: 'y' });
  assert.equal(hashOf('{not json'), undefined);
  assert.deepEqual(['512', '8m', '256K', '1g', '1.5k', 'lots'].map(sizeOf), [512, 8 * 1024 ** 2, 256 * 1024, 1024 ** 3, 1536, undefined]);
  assert.deepEqual(['10', '10s', '5m', '1h', '1d', '0.1s', 'soon'].map(durationOf), [10_000, 10_000, 300_000, 3_600_000, 86_400_000, 100, undefined]);
});

test('the public configs map: the daemonset (systemd disabled) and the grafana-loki image, refusing nothing else', () => {
  const daemonset = readFluentdConfig('test/fixtures/fluentd/fluentd-kubernetes-daemonset/fluent.conf', new DiskFiles(), {
    env: { FLUENTD_SYSTEMD_CONF: 'disable', KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443', FLUENT_FORWARD_HOST: 'agg', FLUENT_FORWARD_PORT: '24224' },
  });
  assert.deepEqual(daemonset.problems, []);
  assert.deepEqual(daemonset.model.refused, []);
  assert.equal(daemonset.model.inputs.length, 14);
  const loki = readFluentdConfig('test/fixtures/fluentd/grafana-loki/fluentd.conf', new DiskFiles(), { env: { LOKI_URL: 'http://loki:3100' } });
  assert.deepEqual(loki.model.refused, []);
  const documented = readFluentdConfig('test/fixtures/fluentd/grafana-loki/documented-usage.conf', new DiskFiles(), { env: {} });
  assert.deepEqual(documented.model.refused, []);
});

test('first match wins, on random patterns and tags: each tag matches the compiled regex of exactly its first matching <match>, and filters only before it', (t) => {
  const part = fc.constantFrom('a', 'b', '*', '**', '{a,b}', '{b,c}');
  const pattern = fc.array(part, { minLength: 1, maxLength: 3 }).map((p) => p.join('.'));
  const tag = fc.array(fc.constantFrom('a', 'b', 'c'), { minLength: 1, maxLength: 4 }).map((p) => p.join('.'));
  const dir = writeFiles(t, {});
  let n = 0;
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.boolean(), pattern), { minLength: 1, maxLength: 6 }), fc.array(tag, { minLength: 1, maxLength: 8 }), (items, tags) => {
      const conf = items.map(([isFilter, p], i) => (isFilter ? `<filter ${p}>\n  @type stdout\n  @id i${i}\n</filter>` : `<match ${p}>\n  @type null\n  @id i${i}\n</match>`)).join('\n');
      const file = join(dir, `c${n++}.conf`);
      writeFileSync(file, conf);
      const model = readFluentdConfig(file, new DiskFiles(), { env: {} }).model;
      const regexOf = new Map([...model.filters, ...model.outputs].map((s) => [keys(s).alias as string, new RegExp(keys(s).match_regex as string)]));
      const own = items.map(([, p]) => new RegExp(fluentdTagPatternSource(p)));
      for (const tg of tags) {
        const first = items.findIndex(([isFilter], i) => !isFilter && own[i]!.test(tg));
        items.forEach(([isFilter], i) => {
          const want = own[i]!.test(tg) && (first < 0 || (isFilter ? i < first : i === first));
          assert.equal(regexOf.get(`i${i}`)!.test(tg), want, `${tg} against item ${i} of ${JSON.stringify(items)}`);
        });
      }
    }),
    runs(300),
  );
});

test('the public configs load through the plugins: the daemonset (systemd disabled) and the grafana-loki image', () => {
  const env = { FLUENTD_SYSTEMD_CONF: 'disable', KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443', FLUENT_FORWARD_HOST: 'agg', FLUENT_FORWARD_PORT: '24224', LOKI_URL: 'http://loki:3100' };
  for (const file of ['fluentd-kubernetes-daemonset/fluent.conf', 'grafana-loki/fluentd.conf']) {
    const r = loadConfig(join('test/fixtures/fluentd', file), PLUGINS, { environment: env });
    assert.ok(r.config, `${file}:\n${r.problems.map((p) => `${p.file}:${p.line}: ${p.message}`).join('\n')}`);
  }
  const daemonset = loadConfig('test/fixtures/fluentd/fluentd-kubernetes-daemonset/fluent.conf', PLUGINS, { environment: env }).config!;
  const kube = daemonset.filters.find((f) => f.instanceName === 'filter_kube_metadata')!;
  assert.equal(kube.options.record_layout, 'fluentd');
  assert.equal(kube.options.kube_url, 'https://10.0.0.1:443/api');
  // <label @FLUENT_LOG> only drops: accepted, nothing of it runs; the forward <match **> is the one output.
  assert.deepEqual(
    daemonset.outputs.map((o) => [o.instanceName, o.plugin.name]),
    [['out_fwd', 'forward']],
  );
  assert.equal(daemonset.inputs.length, 14);
});

test('a bool parameter alone on its line is true, as in Fluentd, for every plugin that takes one (not dropped, not passed on empty)', (t) => {
  const dir = writeFiles(t, {
    'fluent.conf': [
      '<source>',
      '  @type dummy',
      '  tag app',
      '</source>',
      '<filter app>',
      '  @type kubernetes_metadata',
      '  skip_labels',
      '  de_dot no',
      '</filter>',
      '<filter app>',
      '  @type record_transformer',
      '  enable_ruby',
      '  <record>',
      '    ns ${record["kubernetes"]["namespace_name"]}',
      '  </record>',
      '</filter>',
      '<filter app>',
      '  @type concat',
      '  key log',
      '  use_first_timestamp',
      '  multiline_start_regexp /^S/',
      '</filter>',
      '<match app>',
      '  @type loki',
      '  url http://loki:3100',
      '  extract_kubernetes_labels',
      '  drop_single_key',
      '</match>',
      '',
    ].join('\n'),
  });
  const r = loadConfig(join(dir, 'fluent.conf'), PLUGINS);
  assert.ok(r.config, r.problems.map((p) => `${p.file}:${p.line}: ${p.message}`).join('\n'));
  const [kube, rt, concat] = r.config.filters;
  assert.equal(kube!.options.skip_labels, true);
  assert.equal(kube!.options.de_dot, false);
  assert.equal(rt!.options.enable_ruby, true);
  assert.equal(concat!.options.use_first_timestamp, true);
  const loki = r.config.outputs[0]!;
  assert.equal(loki.options.extract_kubernetes_labels, true);
  assert.equal(loki.options.drop_single_key, 'raw');

  // Not a boolean: refused by name and line, not taken as false.
  const bad = readFluentdConfig(join(writeFiles(t, { 'fluent.conf': '<filter **>\n  @type kubernetes_metadata\n  skip_labels maybe\n</filter>\n' }), 'fluent.conf'), new DiskFiles());
  assert.deepEqual(
    bad.model.refused.map((x) => `${x.line}: ${x.name}`),
    ['3: <filter **> @type kubernetes_metadata: skip_labels'],
  );
});

test("concat's timeout_label: sent on (timeout_action pass) when the next <match> relabels every tag to it; refused by line otherwise", (t) => {
  const conf = (next: string) =>
    [
      '<source>',
      '  @type dummy',
      '  tag app.x',
      '</source>',
      '<filter app.**>',
      '  @type concat',
      '  key message',
      '  multiline_start_regexp /^S/',
      '  timeout_label @NORMAL',
      '</filter>',
      next,
      '<label @NORMAL>',
      '  <match **>',
      '    @type stdout',
      '  </match>',
      '</label>',
      '',
    ].join('\n');
  // The plugin's documented pattern: the timed-out entry reaches @NORMAL either way.
  const ok = map(t, conf('<match **>\n  @type relabel\n  @label @NORMAL\n</match>'));
  assert.deepEqual(ok.refused, []);
  const concat = keys(ok.model.filters[0]);
  assert.equal(concat.timeout_action, 'pass');
  assert.equal(concat.timeout_label, undefined);
  const loaded = loadConfig(join(ok.dir, 'fluent.conf'), PLUGINS);
  assert.ok(loaded.config, loaded.problems.map((p) => `${p.line}: ${p.message}`).join('\n'));

  // Anything else would send timed-out entries elsewhere than Fluentd does: refused at the timeout_label line.
  for (const next of ['<match other.**>\n  @type relabel\n  @label @NORMAL\n</match>\n<match **>\n  @type null\n</match>', '<match **>\n  @type stdout\n</match>', '<match **>\n  @type copy\n  <store>\n    @type relabel\n    @label @NORMAL\n  </store>\n  <store>\n    @type stdout\n  </store>\n</match>']) {
    const bad = map(t, conf(next));
    assert.equal(bad.refused.length, 1, bad.refused.join('\n'));
    has(bad.refused, '9: <filter app.**> @type concat: timeout_label @NORMAL');
  }
  // A label that does not exist is named too.
  has(map(t, conf('<match **>\n  @type relabel\n  @label @NORMAL\n</match>').replace('timeout_label @NORMAL', 'timeout_label @NOPE')).refused, '9: @label @NOPE');
});

test("<buffer> retries: Fluentd's uncapped waits and retry_type periodic kept, so a long outage is retried over retry_timeout as Fluentd does", (t) => {
  const silent = loadConfig(join(writeFiles(t, { 'fluent.conf': '<source>\n  @type dummy\n</source>\n<match **>\n  @type loki\n  url http://l\n  extra_labels {"job":"x"}\n</match>\n' }), 'fluent.conf'), PLUGINS);
  assert.ok(silent.config, silent.problems.map((p) => p.message).join('\n'));
  const o = silent.config.outputs[0]!.options;
  // 1s, 2s, ... 2^16 s: 17 retries over about 36 hours, not 17 retries capped at floki's 5 minutes (48 minutes).
  assert.equal(String(o.retry_limit), '17');
  assert.ok(Number(o.retry_max_backoff) >= 2 ** 16 * 1000, `retry_max_backoff ${String(o.retry_max_backoff)}`);
  const periodic = keys(map(t, '<match **>\n  @type loki\n  url http://l\n  <buffer>\n    retry_type periodic\n    retry_wait 10s\n    retry_timeout 1h\n  </buffer>\n</match>').model.outputs[0]);
  assert.deepEqual([periodic.retry_min_backoff, periodic.retry_max_backoff, periodic.retry_limit], ['10000ms', '10000ms', '360']);
  // Past retry_max_interval the waits stop growing: as many as the rest of the timeout holds (1+2+4+8 s, then 10 s each).
  assert.equal(retriesWithin(100_000, 1000, 2, 10_000), 4 + 8);
  assert.equal(retriesWithin(72 * 3600 * 1000, 1000, 1, 1000), 72 * 3600);
});

test('a time or size that is not one is refused by line, never taken as the default (a 0-byte buffer, a 60 s flush)', (t) => {
  const m = map(
    t,
    [
      '<source>',
      '  @type tail',
      '  path /x/*.log',
      '  tag x.*',
      '  rotate_wait soon',
      '  max_line_size big',
      '  <parse>',
      '    @type none',
      '  </parse>',
      '</source>',
      '<match **>',
      '  @type loki',
      '  url http://l',
      '  <buffer>',
      '    flush_interval soon',
      '    chunk_limit_size 1x',
      '    total_limit_size lots',
      '    retry_wait 1ms',
      '  </buffer>',
      '</match>',
      '',
    ].join('\n'),
  );
  for (const [line, what] of [
    [5, 'rotate_wait soon'],
    [6, 'max_line_size big'],
    [15, 'flush_interval soon'],
    [16, 'chunk_limit_size 1x'],
    [17, 'total_limit_size lots'],
    [18, 'retry_wait 1ms'],
  ] as const) {
    assert.ok(m.refused.some((r) => r.startsWith(`${line}: `) && r.includes(what)), `line ${line} ${what} in:\n${m.refused.join('\n')}`);
  }
  assert.equal(m.refused.length, 6, m.refused.join('\n'));
  const loki = keys(m.model.outputs[0]);
  assert.notEqual(loki.mem_buf_limit, '0');
});

test("<parse> format /re/ (Fluentd's older regexp form, in the Loki docs' multi_format <pattern>s): a regex parser of that expression", (t) => {
  const m = map(t, tailWithParse('    @type multi_format\n    <pattern>\n      format json\n    </pattern>\n    <pattern>\n      format /^(?<time>.+) (?<stream>stdout|stderr) [^ ]* (?<log>.*)$/\n      time_format %Y-%m-%dT%H:%M:%S.%N%:z\n    </pattern>'));
  assert.deepEqual(m.refused, []);
  const multi = parserOf(m, keys(m.model.inputs[0]).parser);
  const second = parserOf(m, multi.parsers!.split(',')[1]);
  assert.deepEqual(second, { name: second.name!, format: 'regex', regex: '^(?<time>.+) (?<stream>stdout|stderr) [^ ]* (?<log>.*)$', time_key: 'time', time_format: '%Y-%m-%dT%H:%M:%S.%L%z', time_system_timezone: 'on', time_keep: 'off' });
  const typed = map(t, tailWithParse('    @type /^(?<a>.*)$/'));
  assert.deepEqual(typed.refused, []);
  assert.equal(parserOf(typed, keys(typed.model.inputs[0]).parser).regex, '^(?<a>.*)$');
});

test('v0.12 parse parameters in the <source> or parser <filter> itself (format json, time_format, format /re/) make its <parse>, as Fluentd converts them', (t) => {
  const m = map(
    t,
    [
      '<source>',
      '  @type tail',
      '  path /var/log/app.log',
      '  tag app',
      '  format json',
      '  time_key ts',
      '  time_format %Y-%m-%dT%H:%M:%S%z',
      '</source>',
      '<filter app>',
      '  @type parser',
      '  key_name log',
      '  format /^(?<level>\\w+) (?<msg>.*)$/',
      '</filter>',
      '<match **>',
      '  @type null',
      '</match>',
      '',
    ].join('\n'),
  );
  assert.deepEqual(m.refused, []);
  const tail = parserOf(m, keys(m.model.inputs[0]).parser);
  assert.deepEqual(tail, { name: tail.name!, format: 'json', time_key: 'ts', time_format: '%Y-%m-%dT%H:%M:%S%z', time_system_timezone: 'on', time_keep: 'off' });
  const filter = parserOf(m, keys(m.model.filters[0]).parser);
  assert.equal(filter.format, 'regex');
  assert.equal(filter.regex, '^(?<level>\\w+) (?<msg>.*)$');
  // Neither a <parse> nor a format: still refused, as Fluentd refuses it.
  has(map(t, '<source>\n  @type tail\n  path /x\n  tag x\n</source>\n').refused, '1: <source> @type tail: it has no <parse>');
});

test('v0.12 buffer parameters in the <match> itself (flush_interval, buffer_chunk_limit, ...) make its <buffer>, as Fluentd converts them', (t) => {
  const m = map(t, '<match **>\n  @type loki\n  url http://l\n  extra_labels {"job":"x"}\n  flush_interval 10s\n  flush_at_shutdown true\n  buffer_chunk_limit 1m\n  buffer_type file\n  buffer_path /var/log/fluentd-buffers/loki\n  retry_limit 5\n  max_retry_wait 30\n  num_threads 2\n</match>\n');
  assert.deepEqual(m.refused, []);
  const k = keys(m.model.outputs[0]);
  assert.equal(k.batch_wait, '10000ms');
  assert.equal(k.batch_size, String(1024 * 1024));
  assert.equal(k['storage.type'], 'filesystem');
  assert.equal(k.retry_limit, '5');
  assert.equal(k.retry_max_backoff, '30000ms');
  assert.equal(k.workers, '2');
  assert.deepEqual(k.labels, ['job=x', 'fluentd_thread=flush_thread_0']);
  assert.deepEqual(m.model.service.flatMap((x) => x.entries).find((e) => e.key === 'storage.path')?.value, '/var/log/fluentd-buffers/loki');
  // A <buffer> written beside them wins, as in Fluentd: the older keys are then unknown to the plugin.
  has(map(t, '<match **>\n  @type loki\n  url http://l\n  flush_interval 10s\n  <buffer>\n  </buffer>\n</match>\n').refused, "4: <match **> @type loki: parameter 'flush_interval'");
});

test('loki url empty (an unset "#{ENV[\'LOKI_URL\']}"): named at its line, not reported as the bare push path', (t) => {
  const m = map(t, '<match **>\n  @type loki\n  url "#{ENV[\'LOKI_URL\']}"\n  extra_labels {"job":"x"}\n</match>\n');
  has(m.refused, '3: <match **> @type loki: url: it is empty');
  assert.equal(keys(m.model.outputs[0]).url, undefined);
});

test('a refused-unless-harmless bool reads a key alone as true: use_journal alone is refused, allow_anonymous_source alone and standby no are not', (t) => {
  const m = map(t, '<source>\n  @type forward\n  <security>\n    shared_key k\n    self_hostname h\n    allow_anonymous_source\n  </security>\n</source>\n<filter **>\n  @type kubernetes_metadata\n  use_journal\n</filter>\n<match **>\n  @type forward\n  <server>\n    host h\n    standby no\n  </server>\n</match>\n');
  assert.equal(m.refused.length, 1, m.refused.join('\n'));
  has(m.refused, '11: <filter **> @type kubernetes_metadata: use_journal');
});

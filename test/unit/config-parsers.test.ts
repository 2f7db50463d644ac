/**
 * Parser definitions in both formats, in the config itself or in `parsers_file`s, reach the parser
 * registry as specs with their file and line. (The registry itself is tested with the parsers.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readClassicUpstreamFile } from '../../src/config/formats/classic/index.js';
import { DiskFiles } from '../../src/config/files.js';
import { PLUGINS } from '../../src/plugins.js';
import { lines, loaded, refused, RecordingParsers, writeFiles } from './config-kit.js';

const PIPELINE_CONF = '[INPUT]\n    Name dummy\n[OUTPUT]\n    Name stdout\n    Match *\n';

test('[PARSER] and [MULTILINE_PARSER] sections become specs: keys lower-cased, values as written, rules split', (t) => {
  const dir = writeFiles(t, {
    'fb.conf': `[PARSER]
    Name   docker
    Format json
    Time_Key time
    Time_Format %Y-%m-%dT%H:%M:%S.%L
    Time_Keep On
    Decode_Field_As json log

[MULTILINE_PARSER]
    name          exception_test
    type          regex
    flush_timeout 1000
    rule          "start_state"  "/(Dec \\d+ \\d+\\:\\d+\\:\\d+)(.*)/" "cont"
    rule          "cont" "/^\\s+at.*/" "cont"
${PIPELINE_CONF}`,
  });
  const { parsers } = loaded(join(dir, 'fb.conf'), PLUGINS);
  assert.deepEqual(parsers.defined, [
    {
      file: join(dir, 'fb.conf'),
      line: 1,
      entries: [
        { key: 'name', value: 'docker', line: 2 },
        { key: 'format', value: 'json', line: 3 },
        { key: 'time_key', value: 'time', line: 4 },
        { key: 'time_format', value: '%Y-%m-%dT%H:%M:%S.%L', line: 5 },
        { key: 'time_keep', value: 'On', line: 6 },
        { key: 'decode_field_as', value: 'json log', line: 7 },
      ],
    },
  ]);
  const ml = parsers.definedMultiline[0]!;
  assert.deepEqual(ml.entries.map((e) => `${e.key}=${e.value}`), ['name=exception_test', 'type=regex', 'flush_timeout=1000']);
  assert.deepEqual(ml.rules, [
    { state: 'start_state', regex: '/(Dec \\d+ \\d+\\:\\d+\\:\\d+)(.*)/', nextState: 'cont', line: 13 },
    { state: 'cont', regex: '/^\\s+at.*/', nextState: 'cont', line: 14 },
  ]);
});

test('parsers_file: several, classic or YAML, relative to the file that names it; ${VAR} in paths and values', (t) => {
  const dir = writeFiles(t, {
    'etc/fluent-bit.conf': '[SERVICE]\n    Parsers_File parsers.conf\n    Parsers_File ${EXTRA}\n@INCLUDE conf.d/more.conf\n' + PIPELINE_CONF,
    'etc/parsers.conf': '[PARSER]\n    Name   json\n    Format json\n',
    'etc/extra.yaml': 'parsers:\n  - name: from_yaml\n    format: regex\n    regex: ^${PREFIX}(?<log>.*)$\nmultiline_parsers:\n  - name: ml_yaml\n    type: regex\n    rules:\n      - state: start_state\n        regex: /^a/\n        next_state: cont\n      - state: cont\n        regex: /^\\s/\n        next_state: cont\n',
    'etc/conf.d/more.conf': '[SERVICE]\n    parsers_file local-parsers.conf\n',
    'etc/conf.d/local-parsers.conf': '[PARSER]\n    Name   local\n    Format logfmt\n',
  });
  const { parsers } = loaded(join(dir, 'etc/fluent-bit.conf'), PLUGINS, { environment: { EXTRA: 'extra.yaml', PREFIX: 'app: ' } });
  assert.deepEqual(RecordingParsers.names(parsers.defined), ['json', 'from_yaml', 'local']);
  assert.equal(parsers.defined[1]!.entries.find((e) => e.key === 'regex')!.value, '^app: (?<log>.*)$');
  assert.equal(parsers.defined[2]!.file, join(dir, 'etc/conf.d/local-parsers.conf'));
  assert.deepEqual(RecordingParsers.names(parsers.definedMultiline), ['ml_yaml']);
  assert.deepEqual(parsers.parser('from_yaml')!.parse('app: hello')?.record, { log: 'hello' }, 'the definitions are real parsers');
  assert.ok(parsers.multilineParser('ml_yaml'));
});

test('YAML parsers_file, one or a list', (t) => {
  const dir = writeFiles(t, {
    'fb.yaml': "service:\n  parsers_file: [a.conf, b.yaml]\npipeline:\n  inputs:\n    - name: dummy\n  outputs:\n    - name: stdout\n      match: '*'\n",
    'a.conf': '[PARSER]\n    Name a\n    Format json\n',
    'b.yaml': 'parsers:\n  - name: b\n    format: json\n',
  });
  assert.deepEqual(RecordingParsers.names(loaded(join(dir, 'fb.yaml'), PLUGINS).parsers.defined), ['a', 'b']);
});

test('a missing parsers_file, or one holding other sections, is an error at its line', (t) => {
  const dir = writeFiles(t, {
    'fb.conf': '[SERVICE]\n    Parsers_File nope.conf\n    Parsers_File odd.conf\n' + PIPELINE_CONF,
    'odd.conf': '[PARSER]\n    Name a\n[INPUT]\n    Name dummy\n',
  });
  // fluent-bit: "file=/tmp/fbx/parsers.conf" / "[config] could not configure service property 'parsers_file'"
  assert.deepEqual(refused(join(dir, 'fb.conf'), PLUGINS), [
    `fb.conf:2: service: parsers_file: cannot read ${join(dir, 'nope.conf')}: ENOENT: no such file`,
    'odd.conf:3: a parsers file holds [PARSER] and [MULTILINE_PARSER] sections, not [INPUT]',
  ]);
});

test("parsers_file parsers.conf where there is none reads floki's stock file, with a warning; a real one wins", (t) => {
  const stock = writeFiles(t, { 'stock-parsers.conf': '[PARSER]\n    Name docker\n    Format json\n' });
  const stockFiles = new Map([['parsers.conf', join(stock, 'stock-parsers.conf')]]);
  const dir = writeFiles(t, { 'fb.conf': '[SERVICE]\n    Parsers_File /fluent-bit/etc/parsers.conf\n' + PIPELINE_CONF });
  const r = loaded(join(dir, 'fb.conf'), PLUGINS, { stockFiles });
  assert.deepEqual(RecordingParsers.names(r.parsers.defined), ['docker']);
  assert.deepEqual(lines(r.warnings), ["fb.conf:2: service: parsers_file /fluent-bit/etc/parsers.conf: no such file, using the stock parsers.conf floki ships (Fluent Bit's)"]);

  const own = writeFiles(t, { 'fb.conf': '[SERVICE]\n    Parsers_File parsers.conf\n' + PIPELINE_CONF, 'parsers.conf': '[PARSER]\n    Name mine\n    Format json\n' });
  const mine = loaded(join(own, 'fb.conf'), PLUGINS, { stockFiles });
  assert.deepEqual(RecordingParsers.names(mine.parsers.defined), ['mine']);
  assert.deepEqual(mine.warnings, []);
});

test('an upstream file: one [UPSTREAM] with its name, then [NODE]s with their keys and lines', (t) => {
  const dir = writeFiles(t, {
    'upstream.conf': '[UPSTREAM]\n  name       forward-balancing\n\n[NODE]\n  name       node-1\n  host       127.0.0.1\n  port       43000\n\n[NODE]\n  name       node-3\n  host       127.0.0.1\n  port       45000\n  tls        on\n  shared_key secret\n',
    'bad.conf': '[NODE]\n  name n\n[UPSTREAM]\n  host x\n',
  });
  const { upstream, problems } = readClassicUpstreamFile(join(dir, 'upstream.conf'), new DiskFiles());
  assert.deepEqual(problems, []);
  assert.equal(upstream!.name, 'forward-balancing');
  assert.deepEqual(upstream!.nodes.map((n) => [n.line, n.entries.map((e) => `${e.key}=${e.value}`)]), [
    [4, ['name=node-1', 'host=127.0.0.1', 'port=43000']],
    [9, ['name=node-3', 'host=127.0.0.1', 'port=45000', 'tls=on', 'shared_key=secret']],
  ]);
  const bad = readClassicUpstreamFile(join(dir, 'bad.conf'), new DiskFiles());
  assert.deepEqual(bad.problems.map((p) => `${p.line}: ${p.message}`), ['1: [NODE] before [UPSTREAM]', "3: [UPSTREAM] needs a 'name'"]);
});

/**
 * Values and sections as Fluentd's v1 parser reads them. The expectations are those of Fluentd's own
 * parser tests (fluent/fluentd test/config/test_literal_parser.rb and test_config_parser.rb), written
 * here as floki's tests.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFluentdText, type FluentdConfig } from '../../src/config/formats/fluentd/index.js';

function parse(text: string, env: Record<string, string> = {}): FluentdConfig {
  return parseFluentdText(text, 'test.conf', { env, hostname: 'node-1' });
}

/** The value of `k` in a one-parameter config `k <literal>`. */
function value(literal: string, env: Record<string, string> = {}): string | null {
  const { root } = parse(`<s>\n  k ${literal}\n</s>\n`, env);
  const p = root.elements[0]!.params[0];
  assert.ok(p, `no parameter parsed from ${JSON.stringify(literal)}`);
  return p.value;
}

function refused(text: string): string {
  try {
    parse(text);
  } catch (err) {
    assert.equal((err as Error).name, 'ConfigError');
    return (err as Error).message;
  }
  assert.fail(`accepted: ${JSON.stringify(text)}`);
}

test('plain values: trimmed, comments only after a blank, backslashes kept', () => {
  const cases: [string, string][] = [
    ['text', 'text'],
    ['a  b  c', 'a  b  c'],
    ['  a    ', 'a'],
    ['#not_comment', '#not_comment'],
    ['a#not_comment', 'a#not_comment'],
    ['a #comment', 'a'],
    ['a\t#comment', 'a'],
    ['\\\\', '\\\\'],
    ['\\', '\\'],
    ['\\[', '\\['],
    ['\\n', '\\n'],
    ['#{test}', '#{test}'],
    ['${tag}', '${tag}'],
    ['t{', 't{'],
    ['}t', '}t'],
    ['t[', 't['],
    [']t', ']t'],
    ["t'", "t'"],
    ['t"', 't"'],
    ['-1', '-1'],
    ['0x61', '0x61'],
    ['1.', '1.'],
  ];
  for (const [literal, expected] of cases) assert.equal(value(literal), expected, literal);
});

test('single-quoted values: only \\\' and \\\\ are escapes', () => {
  const cases: [string, string][] = [
    ["''", ''],
    ["'text'", 'text'],
    ["'\\''", "'"],
    ["'\\\\'", '\\'],
    ["'\\t'", '\\t'],
    ["'\\n'", '\\n'],
    ["'\\['", '\\['],
    ["'\\z'", '\\z'],
    ["'a#comment'", 'a#comment'],
    ["'#{test}'", '#{test}'],
    ["'text' # comment", 'text'],
  ];
  for (const [literal, expected] of cases) assert.equal(value(literal), expected, literal);
});

test('double-quoted values: escapes, embedded Ruby, and lines', () => {
  const cases: [string, string][] = [
    ['""', ''],
    ['"text"', 'text'],
    ['"\\""', '"'],
    ['"\\t"', '\t'],
    ['"\\n"', '\n'],
    ['"\\r\\n"', '\r\n'],
    ['"\\f\\b"', '\f\b'],
    ['"\\.t"', '.t'],
    ['"\\$t"', '$t'],
    ['"\\#t"', '#t'],
    ['"\\0"', '\0'],
    ['"\\\\"', '\\'],
    ['"\\["', '['],
    ['"\\#{test}"', '#{test}'],
    ['"$}"', '$}'],
    ['"a#comment"', 'a#comment'],
    ['"#{}"', ''],
    ['"#{"}"}"', '}'],
    ['"t#{hostname}t"', 'tnode-1t'],
    ['"#{Socket.gethostname}"', 'node-1'],
    ['"foo#{worker_id}"', 'foo0'],
    ['"#{1+1}"', '2'],
    ['"text" # comment', 'text'],
  ];
  for (const [literal, expected] of cases) assert.equal(value(literal), expected, literal);
  // A newline is kept; a backslash before it joins the lines.
  assert.equal(value('"line1\n     line2"'), 'line1\n     line2');
  assert.equal(value('"line1\\\n     line2"'), 'line1     line2');
  assert.equal(value('"l1\n  l2\\\n  l3"'), 'l1\n  l2  l3');
  assert.equal(value('"foo-#{ENV["FOO_BAR"]}"', { FOO_BAR: 'x' }), 'foo-x');
});

test('arrays and hashes: JSON over several lines, with # and // comments', () => {
  const cases: [string, string][] = [
    ['[]', '[]'],
    ['[1, 2]', '[1,2]'],
    ['[ "a" , "b" ]', '["a","b"]'],
    ['[\n1\n,\n2\n]', '[1,2]'],
    ['{ "a" : 1 , "b" : 2 }', '{"a":1,"b":2}'],
    ['{\n"a"\n:\n"b"\n}', '{"a":"b"}'],
    ['["a",\n"b", "c",\n"d"]', '["a","b","c","d"]'],
    ['[\n "a", # this is a\n "b", # this is b\n "c"  # this is c\n]', '["a","b","c"]'],
    ['[\n "a", // this is a\n "b", // this is b\n "c"  // this is c\n]', '["a","b","c"]'],
    ['{\n "a": 1, # this is a\n "b": 2, # this is b\n "c": 3  # this is c\n}', '{"a":1,"b":2,"c":3}'],
    ['{"a":"b","c":"#{hostname}"}', '{"a":"b","c":"node-1"}'],
    ['["a","#{hostname} #{worker_id}"]', '["a","node-1 0"]'],
    ['["a#b"]', '["a#b"]'],
    ["'[\"not\", \"json\"]'", '["not", "json"]'],
    ['{"a":"b"} # trailing comment', '{"a":"b"}'],
  ];
  for (const [literal, expected] of cases) assert.equal(value(literal), expected, literal);
  assert.match(refused('<s>\n  k [1,2,]\n</s>\n'), /test\.conf:2: invalid JSON array/);
  assert.match(refused('<s>\n  k {"a":1,}\n</s>\n'), /test\.conf:2: invalid JSON hash/);
  assert.match(refused('<s>\n  k [\n "a", # a\n "b", # b\n]\n</s>\n'), /test\.conf:2: invalid JSON array/);
  assert.match(refused('k [t\n'), /test\.conf:1: the JSON array is not closed before the end of the file/);
  assert.match(refused('k {t\n'), /test\.conf:1: the JSON hash is not closed/);
});

test('a key alone on its line has the empty value; a key is any text, even a number', () => {
  const { root } = parse('k1\nk2 v2\n1 1\n"quoted key" v\nlast');
  assert.deepEqual(
    root.params.map((p) => [p.key, p.value, p.line]),
    [
      ['k1', '', 1],
      ['k2', 'v2', 2],
      ['1', '1', 3],
      ['quoted key', 'v', 4],
      ['last', '', 5],
    ],
  );
});

test('sections: arguments with spaces, several tag patterns, quoted and embedded arguments, nesting', () => {
  const { root } = parse(
    [
      '<test    a.** b.** >',
      '</test>',
      '<test >',
      '</test>',
      '<match "#{ENV[\'TAG\']}.**"> # a comment after the tag',
      '  @type null',
      '  <buffer tag, time>',
      '  </buffer>',
      '</match>',
      '<test _.%$!>',
      '</test>',
      '<test ()*{}.[]>',
      '</test>',
      '',
    ].join('\n'),
    { TAG: 'app' },
  );
  assert.deepEqual(
    root.elements.map((e) => [e.name, e.arg, e.line]),
    [
      ['test', 'a.** b.**', 1],
      ['test', '', 3],
      ['match', 'app.**', 5],
      ['test', '_.%$!', 10],
      ['test', '()*{}.[]', 12],
    ],
  );
  assert.deepEqual(
    root.elements[2]!.elements.map((e) => [e.name, e.arg, e.line]),
    [['buffer', 'tag, time', 7]],
  );
});

test('@ keys: the reserved ones anywhere; others refused in directives, warned about in nested sections', () => {
  const { root, warnings } = parse('<match x>\n  @type loki\n  @id out\n  @label @L\n  @log_level debug\n  <record>\n    @k v\n  </record>\n</match>\n');
  assert.deepEqual(root.elements[0]!.params.map((p) => p.key), ['@type', '@id', '@label', '@log_level']);
  assert.equal(root.elements[0]!.elements[0]!.params[0]!.key, '@k');
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!.message, /'@k' in a nested section/);
  assert.equal(warnings[0]!.line, 7);
  for (const directive of ['match', 'source', 'filter', 'system']) {
    assert.match(refused(`<${directive}>\n  @k v\n</${directive}>\n`), /test\.conf:2: '@' is the system reserved prefix: '@k'/);
  }
  assert.match(refused('  @k v '), /test\.conf:1: '@' is the system reserved prefix/);
});

test('a key given twice: the later value wins, in the first place, with a warning', () => {
  const { root, warnings } = parse('<s>\n  a 1\n  b 2\n  a 3\n</s>\n');
  assert.deepEqual(root.elements[0]!.params.map((p) => [p.key, p.value, p.line]), [
    ['a', '3', 4],
    ['b', '2', 3],
  ]);
  assert.equal(warnings.length, 1);
  assert.equal(warnings[0]!.line, 4);
  assert.match(warnings[0]!.message, /'a' is given again \(first at test\.conf:2\)/);
});

test('comments and blank lines anywhere between directives; CR LF line ends', () => {
  const { root } = parse('# head\n\n<source> # why\n  # inside\n  @type forward # the type\n\n</source> # end\n# tail');
  assert.deepEqual(root.elements[0]!.params.map((p) => [p.key, p.value, p.line]), [['@type', 'forward', 5]]);
  const crlf = parse('<source>\r\n  @type tail\r\n  path /var/log/*.log\r\n</source>\r\n');
  assert.deepEqual(crlf.root.elements[0]!.params.map((p) => [p.key, p.value, p.line]), [
    ['@type', 'tail', 2],
    ['path', '/var/log/*.log', 3],
  ]);
});

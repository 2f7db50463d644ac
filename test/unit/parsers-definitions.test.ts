import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ParserRegistry, type ParserSpec } from '../../src/parsers/registry.js';
import { compileBoundedRegex, NON_LINEAR_MAX_LENGTH } from '../../src/parsers/regex/bounded-regex.js';
import { translateOnigmo } from '../../src/parsers/regex/onigmo-translate.js';
import { stockParsersFile } from '../../src/parsers/stock.js';
import { existsSync } from 'node:fs';
import { readClassicFile } from '../fixtures/parsers/classic-specs.js';

function spec(entries: [string, string][]): ParserSpec {
  return { file: 'parsers.conf', line: 1, entries: entries.map(([key, value], i) => ({ key, value, line: i + 2 })) };
}

function parser(entries: [string, string][]) {
  const r = new ParserRegistry();
  assert.deepEqual(r.define(spec([['name', 'p'], ...entries])), []);
  return r.parser('p')!;
}

describe('parser definitions', () => {
  it('say what is wrong, by file, line and key', () => {
    const r = new ParserRegistry();
    assert.deepEqual(
      r.define(
        spec([
          ['name', 'bad'],
          ['format', 'regex'],
          ['regex', '^(?<a>x'],
          ['time_format', '%H'],
          ['time_offset', '+25:99'],
          ['time_keep', 'maybe'],
          ['decode_field_as', 'base64 log'],
          ['colour', 'red'],
        ]),
      ),
      [
        { file: 'parsers.conf', line: 4, message: 'parser "bad": regex: invalid regex "^(?<a>x": missing ) at the end of the pattern' },
        { file: 'parsers.conf', line: 7, message: `parser "bad": time_keep: expected on/off or true/false, got 'maybe'` },
        { file: 'parsers.conf', line: 6, message: 'parser "bad": time_offset: invalid time_offset "+25:99": expected +HHMM, -HH:MM or Z' },
        { file: 'parsers.conf', line: 8, message: 'parser "bad": decode_field_as: unknown decoder "base64" (json, escaped, escaped_utf8 or mysql_quoted)' },
        { file: 'parsers.conf', line: 9, message: 'parser "bad": unknown key "colour"' },
      ],
    );
    assert.equal(r.parser('bad'), undefined, 'nothing is added');
    assert.deepEqual(r.define(spec([['format', 'json']])), [{ file: 'parsers.conf', line: 1, message: 'parser: missing name' }]);
    assert.deepEqual(r.define(spec([['name', 'x'], ['format', 'yaml']])), [{ file: 'parsers.conf', line: 3, message: 'parser "x": format: unknown format "yaml" (json, regex, logfmt, ltsv, none, multi_format, kubernetes or cri)' }]);
    assert.deepEqual(r.define(spec([['name', 'x'], ['format', 'regex']])), [{ file: 'parsers.conf', line: 1, message: 'parser "x": format regex needs a regex' }]);
    assert.deepEqual(r.define(spec([['name', 'x'], ['format', 'json'], ['time_zone', 'Europe/Paris']])), [
      { file: 'parsers.conf', line: 4, message: 'parser "x": time_zone: time_zone needs a time_format' },
    ]);
    assert.deepEqual(r.define(spec([['name', 'x'], ['format', 'json'], ['time_format', '%s'], ['time_zone', 'Mars/Olympus']])), [
      { file: 'parsers.conf', line: 5, message: 'parser "x": time_zone: unknown time_zone "Mars/Olympus"' },
    ]);
    assert.deepEqual(r.define(spec([['name', 'x'], ['format', 'json'], ['time_format', '%s'], ['time_zone', 'Europe/Paris'], ['time_offset', '+0200']])), [
      { file: 'parsers.conf', line: 5, message: 'parser "x": time_zone: time_zone cannot be combined with time_offset' },
    ]);
    assert.deepEqual(r.define(spec([['name', 'ok'], ['format', 'json']])), []);
    assert.deepEqual(r.define(spec([['name', 'ok'], ['format', 'logfmt']])), [{ file: 'parsers.conf', line: 1, message: 'parser "ok": a parser named "ok" is already defined' }]);
  });

  it('keys are case-insensitive and an empty value is unset, as in Fluent Bit', () => {
    const p = parser([
      ['format', 'REGEX'],
      ['regex', '^(?<time>\\S+) (?<msg>.*)$'],
      ['time_format', '%s'],
      ['time_keep', ''],
    ]);
    assert.deepEqual(p.parse('1700000000 hi'), { record: { msg: 'hi' }, time: 1700000000000000000n });
  });

  it('counts times that do not fit the format', () => {
    const p = parser([
      ['format', 'json'],
      ['time_format', '%Y'],
    ]);
    p.parse('{"time":"x"}');
    p.parse('{"time":"2024"}');
    assert.equal(p.timeFailures, 1);
  });

  it('ships the stock parsers file inside the package', () => {
    assert.ok(existsSync(stockParsersFile()));
  });
});

describe('Onigmo to JavaScript', () => {
  const js = (p: string) => {
    const t = translateOnigmo(p);
    return new RegExp(t.source, t.flags);
  };

  it('named groups, \\h, \\A \\z \\Z, POSIX brackets, {,n}', () => {
    assert.deepEqual(translateOnigmo('(?<a>x)(y)(?<b>z)').names, ['a', 'b']);
    assert.ok(js('^\\h+$').test('00ffAB'));
    assert.ok(!js('^\\h+$').test('0g'));
    assert.ok(js('\\Afoo\\z').test('foo'));
    assert.ok(!js('\\Afoo\\z').test('foo\n'));
    assert.ok(js('^foo\\Z').test('foo\n'));
    assert.ok(!js('\\Afoo').test('x\nfoo'), '\\A is the start of the text, not of a line');
    assert.ok(js('^[[:alpha:]]+[[:digit:]]{,2}$').test('abc12'));
    assert.ok(!js('^[[:alpha:]]+[[:digit:]]{,2}$').test('abc123'));
  });

  it('^ and $ are line anchors, . stops only at \\n, /m makes it cross lines', () => {
    assert.deepEqual(js('^b$').exec('a\nb\nc')?.[0], 'b');
    assert.equal(js('^(.*)$').exec('a\rb')?.[1], 'a\rb');
    assert.equal(js('/^(.*)$/m').exec('a\nb')?.[1], 'a\nb');
  });

  it('inline options', () => {
    assert.ok(js('/abc/i').test('ABC'));
    assert.ok(js('(?i)ab(?-i:cd)').test('ABcd'));
    assert.ok(!js('(?i)ab(?-i:cd)').test('ABCD'));
    assert.ok(js('(?i:[a-c]+)x').test('AbCx'));
    assert.ok(js('^a b(?x: c # comment\n d)$').test('a bcd'));
  });

  it('names what JavaScript cannot express', () => {
    for (const [pattern, what] of [
      ['(?>a)', 'an atomic group'],
      ['a++', 'a possessive quantifier'],
      ['\\p{Alpha}', 'a Unicode property'],
      ['(?~abc)', 'an absence operator'],
      ['[a-z&&[^aeiou]]', 'a class intersection'],
      ['\\g<x>', 'a subexpression call'],
      ['(?<a>x)\\k<b>', 'a back-reference to an unknown group'],
    ] as const) {
      assert.throws(() => translateOnigmo(pattern), (e: Error) => e.message.includes(what), pattern);
    }
  });
});

describe('backtracking bound', () => {
  it('a pattern that backtracks exponentially gives up nothing but time: the linear-time fallback answers at once', () => {
    const re = compileBoundedRegex('^(?<a>(a+)+)$');
    assert.equal(re.linear, true);
    const start = process.hrtime.bigint();
    assert.equal(re.exec('a'.repeat(40) + 'b'), null);
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    assert.ok(ms < 2000, `took ${ms} ms`);
  });

  it('the same shape with a look-around (no linear fallback) is refused at config time', () => {
    assert.throws(() => compileBoundedRegex('(?<=x)(?<a>(a+)+)$'), /could backtrack/);
  });

  it('a pattern without the fallback is only run on texts up to the length bound', () => {
    const re = compileBoundedRegex('(?<=x)(?<a>a+)$');
    assert.equal(re.linear, false);
    assert.ok(re.exec('xaaa'));
    assert.equal(re.exec('x' + 'a'.repeat(NON_LINEAR_MAX_LENGTH)), null);
  });

  it('a counted repeat over 16 of one character keeps the pattern linear', () => {
    const re = compileBoundedRegex('^(?<id>[a-f0-9]{64})$');
    assert.equal(re.linear, true);
    assert.ok(re.exec('a'.repeat(64)));
    assert.equal(re.exec('a'.repeat(63)), null);
    assert.equal(re.exec('a'.repeat(65)), null);
  });

  it('the stock parsers and the multiline built-ins all run on the linear-time fallback', () => {
    const stock = readClassicFile(stockParsersFile()).parsers;
    assert.ok(stock.length >= 15);
    for (const spec of stock) {
      const re = spec.entries.find((e) => e.key === 'regex');
      if (re !== undefined) assert.equal(compileBoundedRegex(re.value).linear, true, re.value);
    }
    const r = new ParserRegistry();
    for (const name of ['java', 'go', 'python', 'ruby']) for (const rule of r.multilineParser(name)!.rules) assert.equal(rule.regex.linear, true, rule.regex.pattern);
  });
});

describe('hostile lines do not stall the stock parsers', () => {
  it('each stock parser gets through 100 KB lines built to make it backtrack in well under 10 s', () => {
    const r = new ParserRegistry();
    for (const spec of readClassicFile(stockParsersFile()).parsers) r.define(spec);
    const hostile = ['1 2 3 [' + ' "'.repeat(20000), 'a '.repeat(50000), '<1>1 ' + 'x '.repeat(40000), '[' + 'a'.repeat(100000), 'x.'.repeat(50000) + '_', '"' + ' a'.repeat(30000) + '" '];
    for (const name of r.parserNames()) {
      const start = process.hrtime.bigint();
      for (const line of hostile) r.parser(name)!.parse(line);
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      assert.ok(ms < 10_000, `${name} took ${ms} ms`);
    }
  });
});

describe('bad input keeps the process up', () => {
  const parsers = [
    parser([['format', 'json'], ['time_format', '%Y-%m-%dT%H:%M:%S.%L%z'], ['decode_field_as', 'json log']]),
    parser([['format', 'logfmt'], ['time_format', '%s']]),
    parser([['format', 'ltsv'], ['types', 'a:integer b:hex c:float d:bool']]),
    parser([['format', 'regex'], ['regex', '^(?<a>[^ ]*) (?<b>.*)$'], ['decode_field_as', 'escaped_utf8 b']]),
  ];

  it('invalid UTF-8 (already U+FFFD), NULs and lone surrogates', () => {
    const bad = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]).toString('utf8');
    for (const p of parsers) for (const t of [bad, 'a=\0 b', '\ud800 x', 'x \\ud800', '{"log":"{\\"a\\":\\ud800}"}']) p.parse(t);
  });

  it('a 4 MiB line and a 100,000-deep JSON nesting', () => {
    const huge = 'x'.repeat(4 * 1024 * 1024);
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const deepObj = '{"a":'.repeat(50_000) + '1' + '}'.repeat(50_000);
    for (const p of parsers) {
      p.parse(huge);
      p.parse(deep);
      p.parse(deep + ' trailing');
      p.parse(deepObj.slice(0, -1));
    }
  });
});

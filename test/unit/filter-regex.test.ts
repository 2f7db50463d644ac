/**
 * The filters' regular expressions are the parsers' (one Onigmo translation, one backtracking bound):
 * what grep, modify and rewrite_tag see of it. The translation itself is tested with the parsers
 * (parsers-definitions.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filterRegex, NON_LINEAR_MAX_LENGTH, RegexConfigError } from '../../src/filters/regex.js';
import { compileBoundedRegex } from '../../src/parsers/regex/bounded-regex.js';

const matches = (pattern: string, text: string) => filterRegex(pattern).test(text);

test('^ and $ match at line breaks and . stops at \\n, as in Ruby', () => {
  assert.equal(matches('^ERROR', 'first\nERROR second'), true);
  assert.equal(matches('first$', 'first\nsecond'), true);
  assert.equal(matches('a.b', 'a\nb'), false);
  assert.equal(matches('a.b', 'a\rb'), true, 'Ruby . takes \\r');
  assert.equal(matches('/a.b/m', 'a\nb'), true, "Ruby's m option: . takes \\n");
});

test('slashes and options are read as flb_regex reads them', () => {
  assert.equal(matches('/^error/i', 'ERROR x'), true);
  assert.equal(matches('/^var/log/', 'var/log'), true, 'the slashes enclose the pattern');
  assert.equal(matches('/^var/log/', '/var/log/'), false);
  assert.equal(matches('/a/b', 'x/a/b'), true, 'b is no option: the slashes belong to the pattern');
  assert.equal(matches('/abc/o', '/abc/o'), true, 'o alone is no option');
  assert.equal(matches('^/var/log', '/var/log/x'), true);
});

test("Ruby's anchors, \\h, quoted names, POSIX brackets and inline options translate", () => {
  assert.equal(matches('\\Aab\\z', 'ab'), true);
  assert.equal(matches('\\Aab\\z', 'x\nab'), false, '\\A is the start of the value, not of a line');
  assert.equal(matches('ab\\Z', 'ab\n'), true);
  assert.equal(matches('^\\h+$', 'c0ffee'), true);
  assert.equal(matches('^[[:alpha:]_]+$', 'snake_case'), true);
  assert.equal(matches('^[[:digit:]]+$', '12a'), false);
  const quoted = filterRegex("(?'word'\\w+)");
  assert.deepEqual(quoted.names, ['word']);
  assert.equal(quoted.exec('hi there')![1], 'hi');
  assert.equal(matches('(?i)^warn', 'WARNING'), true);
  assert.equal(matches('a(?i)b', 'aB'), true, 'an inline option applies from where it stands');
  assert.equal(matches('a(?i)b', 'AB'), false);
  assert.equal(matches('(?x) ^ a \\s b  # comment', 'a b'), true);
  assert.equal(matches('a(?#note)b', 'ab'), true);
  assert.equal(matches('\\x{263a}', 'smile ☺'), true);
});

test('once a pattern names a group, plain groups do not capture, as in Onigmo', () => {
  assert.deepEqual([...filterRegex('^(?<first>x)(y)$').exec('xy')!], ['xy', 'x']);
  assert.deepEqual([...filterRegex('^(x)(y)$').exec('xy')!], ['xy', 'x', 'y']);
  assert.deepEqual([...filterRegex('^(?=x)(x)(?!z)y$').exec('xy')!], ['xy', 'x'], 'lookarounds are not names');
});

test('constructs JavaScript lacks are refused with a message that names them', () => {
  for (const [pattern, what] of [
    ['(?>a+)b', 'atomic group'],
    ['a*+b', 'possessive'],
    ['[a-z&&[^aeiou]]', 'intersection'],
    ['[a-z&&b]', 'intersection'],
    ['^\\p{Alpha}+$', '\\p'],
    ['a\\Kb', '\\K'],
  ] as const) {
    assert.throws(() => filterRegex(pattern), (err: Error) => err instanceof RegexConfigError && err.message.includes(what), pattern);
  }
  assert.throws(() => filterRegex('a('), RegexConfigError);
});

test('a pattern that backtracks catastrophically on a hostile line finishes in linear time', () => {
  const re = filterRegex('^(a+)+$');
  assert.equal(re.linear, true);
  const hostile = 'a'.repeat(50_000) + 'b';
  const started = process.hrtime.bigint();
  assert.equal(re.test(hostile), false);
  assert.equal(re.test('aaaa'), true);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  // Without the bound this takes longer than the universe has existed; with it, milliseconds.
  assert.ok(ms < 2000, `took ${ms} ms`);
});

test('captures are the same after the fallback to the linear engine', () => {
  const re = filterRegex('^(\\w+)-(\\d+)(x+)+y?$');
  const m = re.exec('abc-123xxxx');
  assert.deepEqual([...m!], ['abc-123xxxx', 'abc', '123', 'xxxx']);
  assert.equal(re.exec('abc-123' + 'x'.repeat(30_000) + '!'), null);
});

test('a nested repetition the linear engine cannot run is refused at config time', () => {
  assert.throws(() => filterRegex('^(a+)+\\1$'), /could backtrack/);
  assert.throws(() => filterRegex('(?=x)(\\w*\\s?)*$'), /could backtrack/);
  assert.doesNotThrow(() => filterRegex('/^(a+)+$/i'), '/i is written out as [aA]: the linear engine bounds it');
  assert.doesNotThrow(() => filterRegex('^(a+)+$'), 'the linear engine bounds it');
  assert.doesNotThrow(() => filterRegex('^(?<word>\\w+) \\k<word>$'));
});

test('a pattern the linear engine cannot run does not match a value over the bound, counted per filter', () => {
  let skipped = 0;
  const re = filterRegex('(?<=x)needle', () => skipped++);
  assert.equal(re.linear, false);
  assert.equal(re.test('x'.repeat(100) + 'xneedle'), true);
  assert.equal(skipped, 0);
  assert.equal(re.test('y'.repeat(NON_LINEAR_MAX_LENGTH) + 'xneedle'), false);
  assert.equal(re.exec('xneedle' + 'y'.repeat(NON_LINEAR_MAX_LENGTH)), null, 'not matched even where the match is at the start');
  assert.equal(skipped, 2);
  assert.equal(re.tooLong, 2);
});

test("the filters' regexes and the parsers' are one: same translation, same bound", () => {
  for (const pattern of ['/^(?<a>\\w+) (?<b>x)?$/i', '\\A(?<h>\\h+)\\z', 'a(?i)b[[:alpha:]]{20}', '^(?<x>[^ ]+) \\k<x>$']) {
    const f = filterRegex(pattern);
    const p = compileBoundedRegex(pattern);
    assert.equal(f.regex.source, p.regex.source, pattern);
    assert.equal(f.regex.flags, p.regex.flags, pattern);
    assert.equal(f.linear, p.linear, pattern);
  }
});

test('invalid UTF-16 (lone surrogates from bad UTF-8 upstream) and huge values do not throw', () => {
  const re = filterRegex('^[^\\n]*error');
  assert.equal(re.test('\ud800 error \udfff'), true);
  const huge = 'x'.repeat(4 * 1024 * 1024) + 'error';
  assert.equal(re.test(huge), true);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FilterRegex, MAX_NON_LINEAR_INPUT, RegexConfigError, repeatsARepetition } from '../../src/filters/regex.js';
import { onigmoToJavaScript } from '../../src/filters/onigmo.js';

const matches = (pattern: string, text: string) => new FilterRegex(pattern).test(text);

test('^ and $ match at line breaks and . stops at \\n, as in Ruby', () => {
  assert.equal(matches('^ERROR', 'first\nERROR second'), true);
  assert.equal(matches('first$', 'first\nsecond'), true);
  assert.equal(matches('a.b', 'a\nb'), false);
  assert.equal(matches('a.b', 'a\rb'), true, 'Ruby . takes \\r');
  assert.equal(matches('/a.b/m', 'a\nb'), true, "Ruby's m option is JavaScript's s");
});

test('slashes and options are read as flb_regex reads them', () => {
  assert.equal(matches('/^error/i', 'ERROR x'), true);
  assert.deepEqual(onigmoToJavaScript('/var/log/'), { source: 'var/log', flags: 'm' });
  assert.deepEqual(onigmoToJavaScript('/a/b'), { source: '/a/b', flags: 'm' }, 'b is no option: the slashes belong to the pattern');
  assert.deepEqual(onigmoToJavaScript('/abc/o'), { source: '/abc/o', flags: 'm' }, 'o alone is no option');
  assert.deepEqual(onigmoToJavaScript('^/var/log'), { source: '^/var/log', flags: 'm' });
});

test("Ruby's anchors, \\h, quoted names, POSIX brackets and leading options translate", () => {
  assert.equal(matches('\\Aab\\z', 'ab'), true);
  assert.equal(matches('\\Aab\\z', 'x\nab'), false, '\\A is the start of the value, not of a line');
  assert.equal(matches('ab\\Z', 'ab\n'), true);
  assert.equal(matches('^\\h+$', 'c0ffee'), true);
  assert.equal(matches('^[[:alpha:]_]+$', 'snake_case'), true);
  assert.equal(matches('^[[:digit:]]+$', '12a'), false);
  assert.equal(new FilterRegex("(?'word'\\w+)").exec('hi there')!.groups!.word, 'hi');
  assert.equal(matches('(?i)^warn', 'WARNING'), true);
  assert.equal(matches('(?x) ^ a \\s b  # comment', 'a b'), true);
  assert.equal(matches('a(?#note)b', 'ab'), true);
});

test('once a pattern names a group, plain groups do not capture, as in Onigmo', () => {
  assert.deepEqual([...new FilterRegex('^(?<first>x)(y)$').exec('xy')!], ['xy', 'x']);
  assert.deepEqual([...new FilterRegex('^(x)(y)$').exec('xy')!], ['xy', 'x', 'y']);
  assert.deepEqual([...new FilterRegex('^(?=x)(x)(?!z)y$').exec('xy')!], ['xy', 'x'], 'lookarounds are not names');
});

test('constructs JavaScript lacks are refused with a message that names them', () => {
  for (const [pattern, what] of [
    ['(?>a+)b', 'atomic group'],
    ['a*+b', 'possessive'],
    ['\\Ga', '\\G'],
    ['[a-z&&[^aeiou]]', 'intersection'],
    ['[a-z&&b]', 'intersection'],
    ['[a[bc]]', 'class inside a class'],
    ['a(?i)b', 'inline option'],
    ['^\\p{Alpha}+$', '\\p'],
    ['a\\Kb', '\\K'],
    ['\\x{263a}', '\\x{'],
  ] as const) {
    assert.throws(() => new FilterRegex(pattern), (err: Error) => err instanceof RegexConfigError && err.message.includes(what), pattern);
  }
  assert.throws(() => new FilterRegex('a('), RegexConfigError);
});

test('a pattern that backtracks catastrophically on a hostile line finishes in linear time', () => {
  const re = new FilterRegex('^(a+)+$');
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
  const re = new FilterRegex('^(\\w+)-(\\d+)(x+)+y?$');
  const m = re.exec('abc-123xxxx');
  assert.deepEqual([...m!], ['abc-123xxxx', 'abc', '123', 'xxxx']);
  assert.equal(re.exec('abc-123' + 'x'.repeat(30_000) + '!'), null);
});

test('a nested repetition the linear engine cannot run is refused at config time', () => {
  assert.throws(() => new FilterRegex('^(a+)+\\1$'), /repeats a repetition/);
  assert.throws(() => new FilterRegex('(?=x)(\\w*\\s?)*$'), /repeats a repetition/);
  assert.throws(() => new FilterRegex('/^(a+)+$/i'), /repeats a repetition/);
  assert.doesNotThrow(() => new FilterRegex('^(a+)+$'), 'the linear engine bounds it');
  assert.doesNotThrow(() => new FilterRegex('^(?<word>\\w+) \\k<word>$'));
});

test('patterns the linear engine cannot run see at most the first 16 KiB of a value, counted', () => {
  let cut = 0;
  const re = new FilterRegex('(?<=x)needle', () => cut++);
  assert.equal(re.linear, false);
  assert.equal(re.test('x'.repeat(100) + 'xneedle'), true);
  assert.equal(cut, 0);
  assert.equal(re.test('y'.repeat(MAX_NON_LINEAR_INPUT) + 'xneedle'), false);
  assert.equal(cut, 1);
});

test('star height: which shapes count as a repetition inside a repetition', () => {
  assert.equal(repeatsARepetition('(a+)+'), true);
  assert.equal(repeatsARepetition('(?:a*b)*'), true);
  assert.equal(repeatsARepetition('((ab)+c)*'), true);
  assert.equal(repeatsARepetition('(a+)?'), false);
  assert.equal(repeatsARepetition('(a+){1}'), false);
  assert.equal(repeatsARepetition('(a+){2,}'), true);
  assert.equal(repeatsARepetition('[(a+)]+'), false, 'inside a class nothing is a group');
  assert.equal(repeatsARepetition('\\(a+\\)+'), false);
  assert.equal(repeatsARepetition('^(\\d{4})-(\\d{2})$'), false);
  assert.equal(repeatsARepetition('(a|b)*c+'), false);
});

test('invalid UTF-16 (lone surrogates from bad UTF-8 upstream) and huge values do not throw', () => {
  const re = new FilterRegex('^[^\\n]*error');
  assert.equal(re.test('\ud800 error \udfff'), true);
  const huge = 'x'.repeat(4 * 1024 * 1024) + 'error';
  assert.equal(re.test(huge), true);
});

/**
 * Fluentd's tag patterns. The cases are those of Fluentd's documentation (configuration/config-file.md,
 * "How match patterns work") and of its own tests (fluent/fluentd test/test_match.rb).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TagMatcher } from '../../src/core/tag-match.js';
import { fluentdTagPatternSource } from '../../src/config/formats/fluentd/index.js';
import { TagPatternError } from '../../src/config/formats/fluentd/tag-pattern.js';

function matches(pattern: string, tag: string): boolean {
  return TagMatcher.regex(fluentdTagPatternSource(pattern)).matches(tag);
}

function check(pattern: string, yes: string[], no: string[]): void {
  for (const tag of yes) assert.ok(matches(pattern, tag), `${pattern} should match ${tag}`);
  for (const tag of no) assert.ok(!matches(pattern, tag), `${pattern} should not match ${tag}`);
}

test("the documentation's examples", () => {
  check('a.*', ['a.b'], ['a', 'a.b.c']);
  check('a.**', ['a', 'a.b', 'a.b.c'], []);
  check('{a,b}', ['a', 'b'], ['c']);
  check('a.{b,c}.*', ['a.b.x', 'a.c.y'], ['a.b', 'a.d.x', 'a.b.x.y']);
  check('a.{b,c.**}', ['a.b', 'a.c', 'a.c.d.e'], ['a.b.c', 'a.d']);
  check('a b', ['a', 'b'], ['c', 'a b']);
  check('a.** b.*', ['a', 'a.b', 'a.b.c', 'b.d'], ['b', 'b.d.e']);
  check('myapp.access', ['myapp.access'], ['myapp.accessx', 'myappXaccess']);
});

test('simple and * (test_match.rb)', () => {
  check('a', ['a'], ['b']);
  check('a.b', ['a.b'], ['aab']);
  check('a*', ['a', 'ab', 'abc'], ['a.b', 'ab.c', 'ba']);
  check('*a', ['a', 'ba', 'cba'], ['ab']);
  check('*a*', ['a', 'ba', 'ac', 'bac'], []);
  check('a.*', ['a.b', 'a.c'], ['ab']);
  check('a.*.c', ['a.b.c', 'a.c.c'], ['a.c']);
});

test('** (test_match.rb)', () => {
  check('a.**', ['a', 'a.b'], ['ab', 'abc', 'ab.c', 'ab.d.e']);
  check('a**', ['a', 'ab', 'abc', 'a.b', 'ab.c', 'ab.d.e'], []);
  check('**.a', ['a', 'b.a', 'cb.a', 'd.e.a'], ['ba', 'c.ba']);
  check('**a', ['a', 'ba', 'c.ba', 'b.a', 'cb.a', 'd.e.a'], []);
  check('**', ['', 'a', 'a.b.c', 'with\nnewline'], []);
});

test('{...} (test_match.rb)', () => {
  check('a.{b,c}', ['a.b', 'a.c'], ['a.d']);
  check('a.{b,c}.**', ['a.b', 'a.c'], ['a.d', 'a.cd']);
  check('a.{b.**,c}', ['a.b', 'a.b.c', 'a.c'], ['a.c.d']);
});

test('several patterns in one directive (test_match.rb)', () => {
  check('a.b a.c', ['a.b', 'a.c'], ['a.d']);
  check('a.b.** a.c.**', ['a.b', 'a.c'], ['a.d', 'a.cd']);
  check('a.b.** a.c', ['a.b', 'a.b.c', 'a.c'], ['a.c.d']);
  check('a\t b\n  c', ['a', 'b', 'c'], ['a b']);
});

test('/regex/ patterns, anchored on the whole tag (test_match.rb)', () => {
  check('/a/', ['a'], ['abc']);
  check('/a.*/', ['abc'], []);
  check('/b.*/', [], ['abc']);
  check('/a\\..*/', ['a.b.c'], ['b.b.c']);
  check('/(?!a\\.).*/', ['b.b.c'], ['a.b.c']);
  check('/\\Akube\\.\\h+\\z/', ['kube.0af'], ['kube.xyz']);
  assert.throws(() => fluentdTagPatternSource('/a'), TagPatternError);
  assert.throws(() => fluentdTagPatternSource('/(/'), TagPatternError);
});

test("Fluentd's corners: empty argument, escapes, a trailing dot, an unclosed brace, Ruby's \\Z", () => {
  // `<match>` with no pattern matches everything.
  check('', ['a', 'a.b'], []);
  check('a\\*b', ['a*b'], ['axb']);
  check('a\\.b', ['a.b'], ['axb']);
  check('a-b:c', ['a-b:c'], ['a-bxc']);
  // A dot is written only when something follows it.
  check('a.', ['a'], ['a.', 'a.b']);
  // An unclosed `{` makes its branches literal text, as Regexp.union of strings does.
  check('a{b,c', ['ab', 'ac'], ['a{b,c']);
  check('a{*', ['a[^\\.]*'], ['ab']);
  // A stray `}` or `,` outside braces is a literal character.
  check('a}b,c', ['a}b,c'], []);
  // Ruby's \Z also matches before a final newline; Ruby's `.*` never crosses one.
  check('a.**', ['a.b\n'], ['a.b\nc']);
  check('a*', ['ab\n'], []);
  // Patterns split on blanks as Ruby's split(/\s+/): a leading blank gives an empty pattern.
  check(' a', ['', 'a'], ['b']);
});

test('every source compiles without flags, as TagMatcher.regex compiles it', () => {
  for (const p of ['a.{b,c}.**', '**.a', 'a{b{c,d', 'x.\\{y\\}', '/a|b/', '{a,{b,c}.**}', 'a b {c,d}', 'é.*', '[x]', '(y)', '^$|+?']) {
    assert.doesNotThrow(() => new RegExp(fluentdTagPatternSource(p)), p);
  }
  check('[x]', ['[x]'], ['x']);
  check('(y)', ['(y)'], ['y']);
  check('^$|+?', ['^$|+?'], ['']);
  check('/a|b/', ['a', 'b', 'ab', 'xb'], ['xa']);
});

test("300 random patterns against 8 tags each: what Fluentd's own matcher answered", () => {
  // Printed by fluent/fluentd's lib/fluent/match.rb (commit ff8682d7, Ruby 3.1), patterns split on
  // blanks as EventRouter::Rule does; see test/fixtures/fluentd/README.md.
  const file = join(import.meta.dirname, '..', 'fixtures', 'fluentd', 'fluentd-tag-match-results.json');
  const cases = JSON.parse(readFileSync(file, 'utf8')) as { pattern: string; tags?: string[]; fluentd?: boolean[]; fluentd_error?: string }[];
  assert.equal(cases.length, 300);
  let rubyOnly = 0;
  for (const c of cases) {
    if (c.fluentd_error !== undefined) {
      assert.throws(() => new RegExp(fluentdTagPatternSource(c.pattern)), TagPatternError, c.pattern);
      continue;
    }
    let source: string;
    try {
      source = fluentdTagPatternSource(c.pattern);
    } catch (err) {
      // A /regex/ is compiled as JavaScript: what only Ruby's engine takes (`\\A*`, `.**`) is refused.
      assert.ok(err instanceof TagPatternError && c.pattern.startsWith('/'), `${JSON.stringify(c.pattern)}: ${(err as Error).message}`);
      rubyOnly++;
      continue;
    }
    const re = new RegExp(source);
    assert.deepEqual(c.tags!.map((t) => re.test(t)), c.fluentd, JSON.stringify(c.pattern));
  }
  assert.ok(rubyOnly <= 3, `${rubyOnly} regular expressions only Ruby takes`);
  // The case that needed Ruby's own text of each piece: an unclosed `{` matches its branches' source.
  check('**.{*,**', ['b{{..*', 'x.[^\\.]*'], ['b.c']);
});

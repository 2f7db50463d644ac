/**
 * Fluent Bit's `match` wildcards: `*` is any run of characters (dots and line breaks too), the rest is
 * literal. Tags come from the wire and may be megabytes long, so matching must not backtrack.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { TagMatcher } from '../../src/core/tag-match.js';
import { runs } from '../helpers/fuzz.js';

/** The definition, as a regular expression: right, but exponential on long tags. */
function reference(pattern: string, tag: string): boolean {
  const escaped = pattern.split('*').map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp('^' + escaped.join('.*') + '$', 's').test(tag);
}

test('wildcards match as Fluent Bit routes', () => {
  const cases: [string, string, boolean][] = [
    ['kube.*', 'kube.var.log.containers.a.log', true],
    ['kube.*', 'kube.', true],
    ['kube.*', 'kube', false],
    ['*.log', 'a.b.log', true],
    ['*.log', 'a.b.logs', false],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'aXbYc', true],
    ['a*b*c', 'acb', false],
    ['a*a', 'a', false],
    ['a*a', 'aa', true],
    ['*_kube-system_*', 'kube.var.log.containers.p_kube-system_c.log', true],
    ['**', '', true],
    ['x**y', 'xy', true],
    ['app', 'app', true],
    ['app', 'App', false],
    ['*', 'any\nthing', true],
    ['a*b', 'a\nb', true],
  ];
  for (const [pattern, tag, want] of cases) assert.equal(TagMatcher.wildcard(pattern).matches(tag), want, `${pattern} ~ ${JSON.stringify(tag)}`);
});

test('wildcards agree with their definition on random patterns and tags', () => {
  const alphabet = fc.constantFrom('a', 'b', '.', '*', '\n');
  const text = fc.array(alphabet, { maxLength: 12 }).map((c) => c.join(''));
  fc.assert(
    fc.property(text, text, (pattern, tag) => {
      const t = tag.replaceAll('*', 'a');
      assert.equal(TagMatcher.wildcard(pattern).matches(t), reference(pattern, t));
    }),
    runs(2000),
  );
});

test('a long tag from the wire is matched in linear time, whatever the pattern', () => {
  // `a*a*a*b` against 8,000 a's backtracked for minutes as a regular expression.
  const tag = 'a'.repeat(2 * 1024 * 1024);
  const started = performance.now();
  for (const pattern of ['a*a*a*b', '*a*a*a*a*c', 'kube.*.*.*.log', '*.*.*']) assert.equal(TagMatcher.wildcard(pattern).matches(tag), false, pattern);
  assert.equal(TagMatcher.wildcard('a*a*a*a').matches(tag), true);
  const took = performance.now() - started;
  assert.ok(took < 2000, `took ${Math.round(took)} ms`);
});

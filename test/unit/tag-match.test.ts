import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TagMatcher } from '../../src/core/tag-match.js';

test('match wildcards as Fluent Bit routes', () => {
  const cases: [string, string, boolean][] = [
    ['*', 'anything.at.all', true],
    ['kube.*', 'kube.var.log.containers.a.log', true],
    ['kube.*', 'kube', false],
    ['kube.*', 'kubex.y', false],
    ['kube.*event-exporter*', 'kube.var.log.containers.event-exporter-6d5b_monitoring_event-exporter-aaa.log', true],
    ['kube.*event-exporter*', 'kube.var.log.containers.nginx_default_nginx-bbb.log', false],
    ['app.log', 'app.log', true],
    ['app.log', 'appxlog', false],
    ['app.log', 'App.log', false],
    ['*.log', 'a.b.log', true],
    ['a*c', 'abbbc', true],
    ['a*c', 'abbbd', false],
  ];
  for (const [pattern, tag, want] of cases) assert.equal(TagMatcher.wildcard(pattern).matches(tag), want, `${pattern} vs ${tag}`);
});

test('match_regex is a regular expression on the tag', () => {
  const m = TagMatcher.regex('^kube\\.(foo|bar)\\.');
  assert.equal(m.matches('kube.foo.x'), true);
  assert.equal(m.matches('kube.baz.x'), false);
  assert.throws(() => TagMatcher.regex('('));
});

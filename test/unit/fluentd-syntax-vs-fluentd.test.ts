/**
 * floki's reading of Fluentd configs against what Fluentd's own parser gave for the same text. The
 * expected trees in the fixtures were printed by Fluentd's V1Parser (fluent/fluentd commit ff8682d7,
 * lib/fluent/config/v1_parser.rb, run on Ruby 3.1 with Kernel.binding as Fluentd runs it), for the
 * public configs and for 400 texts generated from pieces of config syntax; see
 * test/fixtures/fluentd/README.md.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../src/config/errors.js';
import { parseFluentdFile, parseFluentdText, type FluentdElement } from '../../src/config/formats/fluentd/index.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'fluentd');

interface FluentdTree {
  name: string;
  arg: string;
  /** [key, value]; a value `:default` is Ruby's symbol from use_default, null is use_nil. */
  params: [string, string | null][];
  elements: FluentdTree[];
}

/** floki's tree in the shape the fixtures print Fluentd's in. */
function asFluentd(e: FluentdElement): FluentdTree {
  return {
    name: e.name,
    arg: e.arg,
    params: e.params.map((p) => [p.key, p.unset === 'default' ? ':default' : p.value]),
    elements: e.elements.map(asFluentd),
  };
}

test('the public configs give the tree Fluentd gives, includes and embedded Ruby evaluated', () => {
  const cases = JSON.parse(readFileSync(join(FIXTURES, 'fluentd-parser-trees.json'), 'utf8')) as { file: string; env: Record<string, string>; fluentd: FluentdTree }[];
  assert.equal(cases.length, 7);
  for (const c of cases) {
    const { root } = parseFluentdFile(join(FIXTURES, c.file), { env: c.env, hostname: 'n' });
    assert.deepEqual(asFluentd(root), c.fluentd, c.file);
  }
});

test('texts made of config syntax pieces: the same tree as Fluentd, or an error where Fluentd has one', () => {
  const cases = JSON.parse(readFileSync(join(FIXTURES, 'fluentd-parser-results.json'), 'utf8')) as { text: string; fluentd?: FluentdTree; fluentd_error?: string }[];
  assert.ok(cases.length >= 400);
  let refused = 0;
  for (const c of cases) {
    let tree: FluentdTree | undefined;
    try {
      tree = asFluentd(parseFluentdText(c.text, 'test.conf', { env: { X: 'x', SERVERENGINE_WORKER_ID: '' }, hostname: 'n' }).root);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      assert.ok(c.fluentd_error !== undefined, `floki refused what Fluentd read: ${JSON.stringify(c.text)}: ${err.message}`);
      refused++;
      continue;
    }
    assert.ok(c.fluentd !== undefined, `floki read what Fluentd refused (${c.fluentd_error}): ${JSON.stringify(c.text)}`);
    assert.deepEqual(tree, c.fluentd, JSON.stringify(c.text));
  }
  assert.equal(refused, cases.filter((c) => c.fluentd_error !== undefined).length);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BadBodyError, parseBody, tagFromUrl } from '../../src/inputs/http/index.js';

test('http body: one object, an array of objects, JSON lines, a pretty-printed object', () => {
  assert.deepEqual(parseBody('{"a":1}', 'application/json'), [{ a: 1 }]);
  assert.deepEqual(parseBody(' [{"a":1},{"b":"x"}]\n', 'application/json'), [{ a: 1 }, { b: 'x' }]);
  assert.deepEqual(parseBody('{"a":1}\n\n{"a":2}\r\n{"a":3}\n', 'application/x-ndjson'), [{ a: 1 }, { a: 2 }, { a: 3 }]);
  assert.deepEqual(parseBody('{\n  "a": 1,\n  "b": [1, 2]\n}\n', undefined), [{ a: 1, b: [1, 2] }]);
  assert.deepEqual(parseBody('[]', 'application/json'), []);
});

test('http body: a form is one record of its fields', () => {
  assert.deepEqual(parseBody('msg=hello+world&level=info', 'application/x-www-form-urlencoded; charset=utf-8'), [{ msg: 'hello world', level: 'info' }]);
});

test('http body: bad bodies are BadBodyErrors that say what and where', () => {
  const bad = (text: string, pattern: RegExp) => assert.throws(() => parseBody(text, 'application/json'), (e: unknown) => e instanceof BadBodyError && pattern.test(e.message), text);
  bad('', /^empty body/);
  bad('   \n', /^empty body/);
  bad('{"a":', /^invalid JSON: /);
  bad('[{"a":1},', /^invalid JSON: /);
  bad('[{"a":1}, 2]', /^array element 1 is a number, not a JSON object$/);
  bad('[{"a":1}, null]', /^array element 1 is null, not a JSON object$/);
  bad('"text"', /^expected a JSON object, an array of objects or JSON lines, got a string$/);
  bad('{"a":1}\n{"a":\n', /^invalid JSON on line 2: /);
  bad('{"a":1}\n[1]\n', /^line 2 is an array, not a JSON object$/);
});

test('http body: a record nested deeper than 64 levels is refused before it is queued, wherever it is; 64 levels are kept', () => {
  const deep = (levels: number): string => '{"a":'.repeat(levels - 1) + '[]' + '}'.repeat(levels - 1);
  assert.deepEqual(parseBody(deep(64), 'application/json').length, 1);
  assert.deepEqual(parseBody(`[${deep(64)},{"b":1}]`, 'application/json').length, 2);
  const bad = (text: string, pattern: RegExp) => assert.throws(() => parseBody(text, 'application/json'), (e: unknown) => e instanceof BadBodyError && pattern.test(e.message), text.slice(0, 40));
  bad(deep(65), /^the record nests objects and arrays deeper than 64 levels/);
  bad(deep(100_000), /^the record nests objects and arrays deeper than 64 levels/);
  bad(`[{"b":1},${deep(100_000)}]`, /^array element 1 nests objects and arrays deeper than 64 levels/);
  bad(`{"b":1}\n${deep(100_000)}\n{"c":2}\n`, /^line 2 nests objects and arrays deeper than 64 levels/);
});

test('http tag from the URL path, sanitised as Fluent Bit does', () => {
  assert.equal(tagFromUrl('/'), undefined);
  assert.equal(tagFromUrl('/?x=1'), undefined);
  assert.equal(tagFromUrl('/kube.events'), 'kube.events');
  assert.equal(tagFromUrl('/app.log?debug=1'), 'app.log');
  assert.equal(tagFromUrl('/a/b c%2Fd'), 'a_b_c_d');
  assert.equal(tagFromUrl('/%zz'), '_zz');
});

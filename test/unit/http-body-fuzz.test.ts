/**
 * Property-based tests of the http input's body parser (fast-check): any text, and damaged bodies of
 * every shape (object, array, JSON lines, form), give records or a BadBodyError, quickly; the records
 * are plain objects within the nesting limit that print as a Loki line. Scale with FUZZ_RUNS.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { nestingExceeds } from '../../src/core/limits.js';
import { BadBodyError, parseBody } from '../../src/inputs/http/index.js';
import { record, runs } from '../helpers/fuzz.js';

const contentType = fc.constantFrom(undefined, 'application/json', 'application/x-ndjson', 'text/plain', 'application/x-www-form-urlencoded');

/** The body shapes a client sends, from records (some nested past the limit). */
const body = fc.oneof(
  record.map((r) => JSON.stringify(r)),
  fc.array(record, { maxLength: 4 }).map((rs) => JSON.stringify(rs)),
  fc.array(record, { minLength: 1, maxLength: 4 }).map((rs) => rs.map((r) => JSON.stringify(r)).join('\n')),
  fc.integer({ min: 60, max: 100_000 }).map((n) => '{"a":' + '['.repeat(n) + ']'.repeat(n) + '}'),
);

/** Text damage: a character changed, the text cut, something inserted (brackets included). */
const damage = fc.oneof(
  fc.record({ at: fc.nat(), c: fc.string({ minLength: 1, maxLength: 3 }) }).map(({ at, c }) => (s: string) => s.slice(0, at % (s.length + 1)) + c + s.slice((at % (s.length + 1)) + 1)),
  fc.nat().map((n) => (s: string) => s.slice(0, n % (s.length + 1))),
  fc.record({ at: fc.nat(), n: fc.integer({ min: 1, max: 20_000 }), c: fc.constantFrom('[', '{"a":', '\n', '"') }).map(({ at, n, c }) => (s: string) => {
    const i = at % (s.length + 1);
    return s.slice(0, i) + c.repeat(n) + s.slice(i);
  }),
);

function checkSafe(text: string, type: string | undefined): void {
  const started = performance.now();
  let records: Record<string, unknown>[];
  try {
    records = parseBody(text, type);
  } catch (err) {
    assert.ok(err instanceof BadBodyError, `not a BadBodyError: ${String(err)}`);
    return;
  }
  assert.ok(Array.isArray(records));
  for (const r of records) {
    assert.ok(r !== null && typeof r === 'object' && !Array.isArray(r), 'a record is an object');
    assert.ok(!nestingExceeds(r), 'within the nesting limit');
    assert.equal(typeof JSON.stringify(r), 'string');
  }
  assert.ok(performance.now() - started < 2000, 'quickly');
}

test('http body: any text gives records or a BadBodyError', () => {
  fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 2048 }), contentType, checkSafe), runs(400));
});

test('http body: whole bodies give their records, unless nested too deeply; damaged ones give records or a BadBodyError', () => {
  fc.assert(
    fc.property(body, contentType, fc.array(damage, { maxLength: 3 }), (text, type, changes) => {
      if (changes.length === 0 && type !== 'application/x-www-form-urlencoded') {
        const deep = (JSON.parse(text.includes('\n') ? `[${text.split('\n').join(',')}]` : text) as unknown);
        const records = Array.isArray(deep) ? deep : [deep];
        if (records.some((r) => nestingExceeds(r))) assert.throws(() => parseBody(text, type), /deeper than 64 levels/);
        else assert.deepEqual(parseBody(text, type), records);
      }
      checkSafe(changes.reduce((s, change) => change(s), text), type);
    }),
    runs(300),
  );
});

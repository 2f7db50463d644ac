/**
 * LineArena.jsonString writes a string as JSON.stringify prints it, in UTF-8, and the arena's length
 * is its UTF-8 length as Buffer.byteLength counts it: the Loki encoder sizes each protobuf message by that count.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LineArena } from '../../src/labels/line-arena.js';

function check(p: LineArena, s: string): void {
  p.begin();
  p.jsonString(s);
  const text = p.chunk.toString('utf8', p.start, p.pos);
  const expected = JSON.stringify(s);
  assert.equal(text, expected, `printing ${expected}`);
  assert.equal(p.length, Buffer.byteLength(expected), `counting ${expected}`);
  assert.deepEqual(p.chunk.subarray(p.start, p.pos), Buffer.from(expected, 'utf8'));
}

test('the text and byte count of chosen strings', () => {
  const p = new LineArena();
  const cases = [
    '',
    'plain',
    '"',
    '\\',
    '""',
    '\\\\"',
    '"starts',
    'ends"',
    '\\starts',
    'ends\\',
    'a"b\\c"d\\\\e',
    '{"seq":"seq=0001","level":"info","msg":"cache miss \\"quoted\\""}',
    'level=info msg="upstream latency retry "',
    'tab\there',
    'new\nline',
    '\u0000\u0001\u001f',
    '\u007f del and \u0080',
    'café naïve Größe € 12,50 日本語のログ',
    'emoji 🚀 "quoted"',
    'lone \ud800 high',
    'lone \udc00 low',
    '\udc00\ud800',
    '\u2028\u2029',
    'x'.repeat(70_000) + '"' + 'y'.repeat(10),
  ];
  for (const s of cases) check(p, s);
});

test('the text and byte count of any string', () => {
  const p = new LineArena();
  // Mostly the characters that matter, so that quotes, backslashes and surrogates meet often.
  const unit = fc.oneof(
    fc.constantFrom('"', '\\', 'a', ' ', 'é', '日', '\n', '\u0000', '\u001f', '\u007f', '\ud800', '\udc00', '\ud83d', '\ude80', '\u2028'),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  );
  fc.assert(
    fc.property(fc.string({ unit, maxLength: 60 }), (s) => check(p, s)),
    { numRuns: 5000 },
  );
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme', maxLength: 80 }), (s) => check(p, s)),
    { numRuns: 2000 },
  );
});

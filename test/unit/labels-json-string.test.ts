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

/** jsonString after `offset` bytes of the line, in an arena of `chunkBytes` chunks: the string's text is JSON.stringify's, wherever it lands. */
function checkAt(p: LineArena, s: string, offset: number): void {
  p.begin();
  for (let i = 0; i < offset; i++) p.byte(0x2c);
  p.jsonString(s);
  const expected = ','.repeat(offset) + JSON.stringify(s);
  assert.deepEqual(p.chunk.subarray(p.start, p.pos), Buffer.from(expected, 'utf8'), `printing ${JSON.stringify(s)} after ${offset}`);
}

test('every character that matters at every place of a string, short (char by char) and long (word by word)', () => {
  const specials = ['"', '\\', '\n', '\t', '\b', '\f', '\r', '\u0000', '\u0001', '\u001f', '\u007f', '\u0080', 'é', '日', '\ufffd', '\ud800', '\udc00', '🚀', '\u2028'];
  const small = new LineArena(128);
  const big = new LineArena();
  for (const len of [0, 1, 3, 4, 5, 15, 16, 17, 18, 19, 20, 31, 32, 33, 63, 64, 65, 100]) {
    const base = 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(3).slice(0, len).padEnd(len, 'x');
    for (const sp of specials) {
      for (let at = 0; at <= len; at++) {
        const s = base.slice(0, at) + sp + base.slice(at);
        checkAt(big, s, at % 5);
        checkAt(small, s, (at * 7) % 11);
      }
    }
  }
});

test('long strings: all plain, many escapes, beyond the scratch buffer, moved to a new chunk', () => {
  const small = new LineArena(512);
  const big = new LineArena();
  const cases = [
    'p'.repeat(1000),
    '"'.repeat(1000),
    '\\'.repeat(999) + 'x',
    '{"a":"b","c":"d\\"e"}'.repeat(50),
    'é'.repeat(700),
    '日本'.repeat(500) + '"',
    '🚀'.repeat(300) + '\ud800',
    'x'.repeat(21_844),
    'x'.repeat(21_845) + '"',
    'x'.repeat(21_846) + '"',
    '日'.repeat(16_384) + '"',
    'x'.repeat(16_000) + '\u0007',
  ];
  for (const s of cases) {
    for (const offset of [0, 1, 2, 3]) {
      checkAt(big, s, offset);
      checkAt(small, s, offset);
    }
  }
});

test('the text of any longer string, in small chunks at any alignment', () => {
  const p = new LineArena(256);
  const unit = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom('a', ' ', '=', '{') },
    { weight: 1, arbitrary: fc.constantFrom('"', '\\', 'é', '日', '\n', '\u0000', '\u001f', '\u007f', '\ud800', '\udc00', '\ud83d', '\ude80', '\ufffd') },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  );
  fc.assert(
    fc.property(fc.string({ unit, minLength: 17, maxLength: 400 }), fc.integer({ min: 0, max: 7 }), (s, offset) => checkAt(p, s, offset)),
    { numRuns: 3000 },
  );
});

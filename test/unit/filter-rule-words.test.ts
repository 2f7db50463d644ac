/** The three ways Fluent Bit cuts a rule into words, each as its C code does (flb_utils_split, _quoted, flb_slist). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstWordAndRest, listWords, quotedWords } from '../../src/filters/common/rule-words.js';

test("grep's KEY REGEX: the first word, then everything after one space", () => {
  assert.deepEqual(firstWordAndRest('log aa'), ['log', 'aa']);
  assert.deepEqual(firstWordAndRest('log GET \\S+ 200'), ['log', 'GET \\S+ 200']);
  assert.deepEqual(firstWordAndRest('log  aa'), ['log', ' aa'], 'a second space belongs to the regex');
  assert.deepEqual(firstWordAndRest('log'), ['log']);
  assert.deepEqual(firstWordAndRest('log '), ['log']);
  assert.deepEqual(firstWordAndRest(''), []);
});

test("modify's words: quotes of either kind, escapes inside, the rest after the maximum", () => {
  assert.deepEqual(quotedWords('a b', 3), ['a', 'b']);
  assert.deepEqual(quotedWords('msg "hello world"', 3), ['msg', 'hello world']);
  assert.deepEqual(quotedWords(`q 'it\\'s'`, 3), ['q', "it's"]);
  assert.deepEqual(quotedWords('q "say \\"hi\\" \\\\o/"', 3), ['q', 'say "hi" \\o/']);
  assert.deepEqual(quotedWords('a  b', 3), ['a', 'b'], 'runs of spaces separate');
  assert.deepEqual(quotedWords('a b c d e', 3), ['a', 'b', 'c', 'd e']);
  assert.deepEqual(quotedWords('"a"b', 3), ['a', 'b'], 'the closing quote is the separator');
  assert.deepEqual(quotedWords('a it"s', 3), ['a', 'it"s'], 'a quote inside a word is a character');
  assert.equal(quotedWords('a "open', 3), undefined);
  assert.deepEqual(quotedWords('🔥 💦', 3), ['🔥', '💦']);
});

test('list words: double quotes only, the rest after the maximum', () => {
  assert.deepEqual(listWords('hostname localhost', 2), ['hostname', 'localhost']);
  assert.deepEqual(listWords('msg hello world', 2), ['msg', 'hello', 'world']);
  assert.deepEqual(listWords('msg hello world again', 2), ['msg', 'hello', 'world again']);
  assert.deepEqual(listWords('msg "hello world"', 2), ['msg', 'hello world']);
  assert.deepEqual(listWords('q "say \\"hi\\""', 2), ['q', 'say "hi"']);
  assert.deepEqual(listWords("q 'a b'", 2), ['q', "'a", "b'"], 'single quotes are characters');
  assert.deepEqual(listWords('$log "^disk is (full|gone)$" spaced false', 4), ['$log', '^disk is (full|gone)$', 'spaced', 'false']);
  assert.deepEqual(listWords('$tool ^(fluent)$  from.$TAG.new false', 4), ['$tool', '^(fluent)$', 'from.$TAG.new', 'false']);
  assert.deepEqual(listWords('k "open', 2), ['k', 'open'], 'an unclosed quote keeps the rest');
  assert.deepEqual(listWords('  a  ', 2), ['a']);
  assert.deepEqual(listWords('', 2), []);
});

/**
 * Property tests of the Fluentd config front-end: whatever text it is given, it answers with a tree
 * or a ConfigError, quickly; a config written from a tree reads back as that tree, lines included.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ConfigError } from '../../src/config/errors.js';
import { fluentdTagPatternSource, parseFluentdText, type FluentdElement } from '../../src/config/formats/fluentd/index.js';
import { evaluateEmbeddedRuby, RubyRaise, UnsetSignal, UnsupportedRuby } from '../../src/config/formats/fluentd/ruby-subset.js';
import { TagPatternError } from '../../src/config/formats/fluentd/tag-pattern.js';
import { parseFluentdPosFile } from '../../src/inputs/tail/fluentd-pos-file.js';

const SYNTAX_CHARS = [...'<>/"\'\\#{}[]@ \t\n\r,:*.=|$-_aksv01é'];
const configText = fc.string({ unit: fc.constantFrom(...SYNTAX_CHARS), maxLength: 400 });
/** Pieces that make up real configs, so that the random texts reach deep into the parser. */
const configPieces = fc
  .array(
    fc.constantFrom(
      '<source>\n', '</source>\n', '<match a.**>\n', '</match>\n', '<parse>', '</parse>\n', '@type tail\n', 'key value\n',
      'k "a\\"b"\n', "k 'x'\n", 'k [1,\n2]\n', 'k {"a":\n1} # c\n', 'k "#{ENV[\'X\'] || \'d\'}"\n', 'k "#{', '}"', '"', '#', '\n',
      ' ', '\\', '[', '{', '@include x.conf\n', 'k "line\n', "ENV['X']", ' # comment\n', '<label @L>\n', '</label>\n',
    ),
    { maxLength: 40 },
  )
  .map((parts) => parts.join(''));

function parseOrConfigError(text: string): void {
  const started = process.hrtime.bigint();
  try {
    parseFluentdText(text, 'fuzz.conf', { env: { X: 'x' }, hostname: 'h' });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const p of err.problems) {
      assert.equal(p.file, 'fuzz.conf');
      assert.ok(Number.isInteger(p.line) && p.line >= 1 && p.line <= text.split('\n').length, `line ${p.line} of ${JSON.stringify(text)}`);
    }
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  assert.ok(ms < 1000, `took ${ms} ms on ${JSON.stringify(text)}`);
}

test('any text: a tree or a ConfigError with a line inside the text, never anything else, never slow', () => {
  fc.assert(fc.property(configText, parseOrConfigError), { numRuns: 1500 });
  fc.assert(fc.property(configPieces, parseOrConfigError), { numRuns: 1500 });
});

test('long inputs stay fast: blanks, comments, JSON and strings of 200 KB', () => {
  const big = 200_000;
  for (const text of [
    `k a${' '.repeat(big)}b\n`,
    `<match a${' '.repeat(big)}b>\n</match>\n`,
    `k [${'1,'.repeat(big / 2)}1]\n`,
    `k [${'"#",'.repeat(big / 4)}1]\n`,
    `k [1, # c\n${'2, # c\n'.repeat(200)}3]\n`,
    `k "${'x\\\n'.repeat(big / 3)}"\n`,
    `${'#'.repeat(big)}\n`,
    `${'<a>\n'.repeat(60)}${'</a>\n'.repeat(60)}`,
    `k [${'['.repeat(big / 2)}`,
  ]) {
    parseOrConfigError(text);
  }
});

/** Names, arguments and values that the writer below can put in a file as they are. */
const word = fc.stringMatching(/^[a-z_][a-z0-9_]{0,8}$/);
const plainValue = fc.stringMatching(/^[a-z0-9/.*%$:][a-z0-9/.*%$:# ]{0,15}[a-z0-9/.*%$:]$|^[a-z0-9]$/).filter((v) => !v.includes(' #'));

interface Tree {
  name: string;
  arg: string;
  params: [string, string][];
  children: Tree[];
}

function treeOfDepth(depth: number): fc.Arbitrary<Tree> {
  return fc.record({
    name: word,
    arg: fc.oneof(fc.constant(''), word, fc.constant('a.** b.*')),
    params: fc.uniqueArray(fc.tuple(word, plainValue), { selector: ([k]) => k, maxLength: 4 }),
    children: depth === 0 ? fc.constant([]) : fc.array(treeOfDepth(depth - 1), { maxLength: 2 }),
  });
}
const tree = treeOfDepth(3);

/** Writes the tree as a config, in one of three quotings, and notes the line of each thing. */
function write(nodes: Tree[], quote: 0 | 1 | 2): { text: string; lines: number[] } {
  const out: string[] = [];
  const lines: number[] = [];
  const emit = (n: Tree, indent: string): void => {
    lines.push(out.length + 1);
    out.push(`${indent}<${n.name}${n.arg === '' ? '' : ` ${n.arg}`}>`);
    for (const [k, v] of n.params) {
      lines.push(out.length + 1);
      const q = quote === 0 ? v : quote === 1 ? `'${v}'` : `"${v.replace(/[\\"#]/g, '\\$&')}"`;
      out.push(`${indent}  ${k} ${q}${out.length % 3 === 0 ? '  # a comment' : ''}`);
      if (out.length % 4 === 0) out.push('');
    }
    for (const c of n.children) emit(c, `${indent}  `);
    out.push(`${indent}</${n.name}>`);
  };
  for (const n of nodes) emit(n, '');
  return { text: out.join('\n') + '\n', lines };
}

function read(elements: FluentdElement[], lines: number[]): Tree[] {
  return elements.map((e) => {
    lines.push(e.line);
    const params = e.params.map((p): [string, string] => {
      lines.push(p.line);
      return [p.key, p.value!];
    });
    return { name: e.name, arg: e.arg, params, children: read(e.elements, lines) };
  });
}

test('a config written from a tree reads back as that tree, with the line of every section and key', () => {
  fc.assert(
    fc.property(fc.array(tree, { maxLength: 3 }), fc.constantFrom(0, 1, 2), (nodes, quote) => {
      const { text, lines } = write(nodes, quote as 0 | 1 | 2);
      const { root } = parseFluentdText(text, 'tree.conf', { env: {}, hostname: 'h' });
      const readLines: number[] = [];
      assert.deepEqual(read(root.elements, readLines), JSON.parse(JSON.stringify(nodes)));
      assert.deepEqual(readLines, lines);
    }),
    { numRuns: 500 },
  );
});

test('embedded Ruby: any code is evaluated, or refused with one of the three known errors', () => {
  const tokens = fc.constantFrom("ENV['X']", "ENV.fetch('Y', 'd')", ' || ', ' + ', '(', ')', "'s'", '"#{', '}"', ';', ' ? ', ' : ', 'rescue ', 'a = ', 'a', '1', 'nil', 'use_nil', 'File.join(', ', ', 'IPAddr.new(', ').ipv6?', '`', '[', ']', '\n', '#');
  fc.assert(
    fc.property(fc.array(tokens, { maxLength: 20 }), (parts) => {
      try {
        assert.equal(typeof evaluateEmbeddedRuby(parts.join(''), { env: { X: 'x' }, hostname: 'h', workerId: '0' }), 'string');
      } catch (err) {
        if (!(err instanceof UnsupportedRuby || err instanceof RubyRaise || err instanceof UnsetSignal)) throw err;
      }
    }),
    { numRuns: 2000 },
  );
});

test('tag patterns: any argument gives a regular expression that compiles, or a TagPatternError', () => {
  const chars = fc.constantFrom(...'ab.*{},\\/ ()[]?+^$|'.split(''));
  fc.assert(
    fc.property(fc.string({ unit: chars, maxLength: 30 }), (arg) => {
      let source: string;
      try {
        source = fluentdTagPatternSource(arg);
      } catch (err) {
        if (err instanceof TagPatternError) return;
        throw err;
      }
      new RegExp(source).test('a.b');
    }),
    { numRuns: 2000 },
  );
});

test('pos files: any bytes are read without throwing', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, followInodes) => {
      const { entries } = parseFluentdPosFile(Buffer.from(bytes), followInodes);
      for (const e of entries) assert.ok(e.pos >= 0n && e.ino >= 0n && !e.path.includes('\t'));
    }),
    { numRuns: 1000 },
  );
});

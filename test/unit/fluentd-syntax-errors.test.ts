import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/config/errors.js';
import { parseFluentdFile, parseFluentdText, type FluentdParseOptions } from '../../src/config/formats/fluentd/index.js';

const dir = mkdtempSync(join(tmpdir(), 'floki-fluentd-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string | Buffer): string {
  const path = join(dir, name);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  return path;
}

/** Every problem of a refused config, as `file:line: message` lines with the temp folder cut. */
function problems(run: () => unknown): string[] {
  try {
    run();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `not a ConfigError: ${(err as Error).stack}`);
    return err.problems.map((p) => `${p.file.replace(dir + '/', '')}:${p.line}: ${p.message}`);
  }
  assert.fail('accepted');
}

function textProblems(text: string, options: FluentdParseOptions = {}): string[] {
  return problems(() => parseFluentdText(text, 'test.conf', { env: {}, hostname: 'n', ...options }));
}

test('syntax errors name the file and the line, one at a time as Fluentd stops at the first', () => {
  const cases: [string, RegExp][] = [
    ['<source>\n  @type tail\n', /^test\.conf:1: <source> is not closed: expected '<\/source>' before the end of the file$/],
    ['<match a.**>\n  <buffer>\n  </buffer>\n', /^test\.conf:1: <match a\.\*\*> is not closed/],
    ['k v\n</match>\n', /^test\.conf:2: '<\/match>' closes no section$/],
    ['<a>\n</b>\n', /^test\.conf:2: '<\/b>' where '<\/a>' was expected$/],
    ['<test></test>\n', /^test\.conf:1: expected the end of the line after '<test\.\.\.>'$/],
    ['<test>\n</test><test>\n</test>\n', /^test\.conf:2: expected the end of the line after '<\/test>'$/],
    ['<test #a>\n</test>\n', /^test\.conf:1: <test <\/test> is not closed/],
    ['<source\n', /^test\.conf:2: expected '>' to end '<source'$/],
    ['< source>\n</source>\n', /^test\.conf:1: expected a section name after '<'$/],
    // Fluentd reads a nameless '</>' as the end of the file and drops what follows; floki refuses it.
    ['k v\n</>\nlost v\n', /^test\.conf:2: expected a section name after '<\/'$/],
    ['<>\n</>\n', /^test\.conf:1: expected a section name after '<'$/],
    ['<s>\n  k "a" 1\n</s>\n', /^test\.conf:2: expected the end of the line after the value of 'k'$/],
    ["<s>\n  k 'a' 1\n</s>\n", /^test\.conf:2: expected the end of the line after the value of 'k'$/],
    ['k """\n', /^test\.conf:1: expected the end of the line after the value of 'k'$/],
    ['<s>\n  k "\\z"\n</s>\n', /^test\.conf:2: unknown escape '\\z' in a double-quoted string$/],
    ['k "\\1"\n', /^test\.conf:1: unknown escape '\\1'/],
    ['<s>\n  k "abc\n</s>\n', /^test\.conf:2: a double-quoted string is not closed/],
    ['k "\\"', /^test\.conf:1: a double-quoted string is not closed/],
    ['k "a\n\nb"\n', /^test\.conf:1: a double-quoted string is not closed \(a blank line/],
    ["k 'abc\n'\n", /^test\.conf:1: a single-quoted string is not closed on its line$/],
    ["k '\\'\n", /^test\.conf:1: a single-quoted string is not closed/],
    ['"k"v\n', /^test\.conf:1: expected a space after the parameter name 'k'$/],
    ['k "#{ENV[\'X\']"\n', /^test\.conf:1: embedded Ruby code "#\{" is not closed by "\}"$/],
    ['<match "#{use_nil}">\n</match>\n', /^test\.conf:1: use_nil cannot stand for the argument of <match>$/],
    ['"#{use_default}" v\n', /^test\.conf:1: use_default cannot stand for a parameter name$/],
    ['k ["#{use_nil}"]\n', /^test\.conf:1: use_nil cannot stand inside a JSON value$/],
    ['@include\n', /^test\.conf:1: @include needs a path$/],
  ];
  for (const [text, expected] of cases) {
    const found = textProblems(text);
    assert.equal(found.length, 1, `${JSON.stringify(text)}: ${found.join('; ')}`);
    assert.match(found[0]!, expected, JSON.stringify(text));
  }
});

test('embedded Ruby floki cannot evaluate: every one reported at once, with its line and code', () => {
  const found = textProblems(
    [
      '<source>',
      '  a "#{`ls`}"',
      "  b \"#{system('rm -rf /')}\"",
      "  c \"#{ENV.fetch('NOPE')}\"",
      "  d \"ok #{ENV['X'] || 'fine'}\"",
      "  e \"#{'a' + nil}\"",
      '</source>',
    ].join('\n'),
  );
  assert.deepEqual(found.map((p) => p.replace(/: .*/, '')), ['test.conf:2', 'test.conf:3', 'test.conf:4', 'test.conf:6']);
  assert.match(found[0]!, /embedded Ruby "#\{`ls`\}" is outside what floki evaluates \('`'\)/);
  assert.match(found[1]!, /embedded Ruby "#\{system\('rm -rf \/'\)\}" is outside what floki evaluates \('system'\)/);
  assert.match(found[2]!, /raised KeyError: key not found: "NOPE" \(the environment variable NOPE is not set\)/);
  assert.match(found[3]!, /raised TypeError: no implicit conversion of nil into String/);
});

test('@include: relative to the including file, globs in sorted order, nested includes, merged into a section', () => {
  write('inc/main.conf', 'k1 root\n@include sub/a.conf\n@include conf.d/*.conf\n<match x>\n  @include sub/in-match.conf\n</match>\ninclude "sub/deprecated.conf"\n');
  write('inc/sub/a.conf', 'k2 a\n@include ../b.conf\n');
  write('inc/b.conf', 'k3 b\n');
  write('inc/conf.d/20-second.conf', 'k5 second\n');
  write('inc/conf.d/10-first.conf', 'k4 first\n');
  write('inc/conf.d/.hidden.conf', 'hidden yes\n');
  write('inc/sub/in-match.conf', '@type stdout\n<buffer>\n  flush_interval 1s\n</buffer>\n');
  write('inc/sub/deprecated.conf', 'k6 old\n');
  const { root, warnings, files } = parseFluentdFile(join(dir, 'inc/main.conf'), { env: {}, hostname: 'n' });
  assert.deepEqual(root.params.map((p) => [p.key, p.value, p.file.replace(dir + '/', ''), p.line]), [
    ['k1', 'root', join(dir, 'inc/main.conf').replace(dir + '/', ''), 1],
    ['k2', 'a', 'inc/sub/a.conf', 1],
    ['k3', 'b', 'inc/b.conf', 1],
    ['k4', 'first', 'inc/conf.d/10-first.conf', 1],
    ['k5', 'second', 'inc/conf.d/20-second.conf', 1],
    ['k6', 'old', 'inc/sub/deprecated.conf', 1],
  ]);
  const match = root.elements[0]!;
  assert.deepEqual(match.params.map((p) => [p.key, p.value]), [['@type', 'stdout']]);
  assert.deepEqual(match.elements.map((e) => [e.name, e.file.replace(dir + '/', ''), e.line]), [['buffer', 'inc/sub/in-match.conf', 2]]);
  assert.equal(files.length, 7);
  assert.deepEqual(warnings.map((w) => `${w.line}: ${w.message}`), ["7: 'include' is deprecated: use '@include'"]);
});

test('@include: file:// URLs, spaces and %-encoding are read as Fluentd reads them; a missing file is a warning', () => {
  write('enc/dir with space/x.conf', 'k x\n');
  write('enc/y+z.conf', 'k2 never\n');
  const main = write('enc/main.conf', `@include dir with space/x.conf\n@include file://${join(dir, 'enc/dir%20with%20space/x.conf')}\n@include y+z.conf\n@include missing.conf\n`);
  const { root, warnings } = parseFluentdFile(main, { env: {}, hostname: 'n' });
  assert.deepEqual(root.params.map((p) => [p.key, p.value]), [['k', 'x']]);
  const shown = warnings.map((w) => `${w.file.replace(dir + '/', '')}:${w.line}: ${w.message.replace(dir + '/', '')}`);
  // The same file included twice (by path, then by URL) gives `k` twice.
  assert.equal(shown[0], "enc/dir with space/x.conf:1: 'k' is given again (first at enc/dir with space/x.conf:1); this later value is the one used");
  // `+` means a space in a URI, so `y+z.conf` names `y z.conf`, which does not exist.
  assert.equal(shown[1], `enc/main.conf:3: @include y+z.conf: no file matches enc/y z.conf; nothing is included (as in Fluentd)`);
  assert.match(shown[2]!, /^enc\/main\.conf:4: @include missing\.conf: no file matches/);
  assert.equal(shown.length, 3);
});

test('@include errors: network URLs, non-URI paths, cycles, folders, unreadable and oversized files, depth', () => {
  write('err/loop-a.conf', 'a 1\n@include loop-b.conf\n');
  write('err/loop-b.conf', 'b 1\n@include loop-a.conf\n');
  write('err/self.conf', '@include self.conf\n');
  mkdirSync(join(dir, 'err/folder.conf'), { recursive: true });
  write('err/latin1.conf', Buffer.from([0x6b, 0x20, 0xe9, 0x0a]));
  write('err/big.conf', 'k ' + 'x'.repeat(2000) + '\n');
  write('err/bad-syntax.conf', 'ok 1\n<source>\n');
  symlinkSync(join(dir, 'err/loop-a.conf'), join(dir, 'err/link-to-a.conf'));
  const main = write(
    'err/main.conf',
    [
      '@include http://example.com/fluent.conf',
      '@include a[1].conf',
      '@include what?.conf',
      '@include loop-a.conf',
      '@include self.conf',
      '@include folder.conf',
      '@include latin1.conf',
      '@include %zz.conf',
      '',
    ].join('\n'),
  );
  const found = problems(() => parseFluentdFile(main, { env: {}, hostname: 'n' }));
  const mainName = main.replace(dir + '/', '');
  assert.deepEqual(found.slice(0, 4), [
    `${mainName}:1: @include http://example.com/fluent.conf: 'http://example.com/fluent.conf' is a http URL: floki does not fetch configuration over the network (save the file and include it by path)`,
    `${mainName}:2: @include a[1].conf: 'a[1].conf' is not a valid path for @include: Fluentd reads it as a URI, so characters such as [ ] { } " < > | \\ ^ \` and non-ASCII ones must be %-encoded`,
    `${mainName}:3: @include what?.conf: 'what?.conf' has '?' or '#', which Fluentd reads as a URI query or fragment, not a file`,
    `err/loop-b.conf:2: @include loop-a.conf: include cycle: ${join(dir, 'err/loop-a.conf')} -> ${join(dir, 'err/loop-b.conf')} -> ${join(dir, 'err/loop-a.conf')}`,
  ]);
  assert.match(found[4]!, /^err\/self\.conf:1: @include self\.conf: include cycle/);
  // A syntax error (here: a file Fluentd cannot read) stops the reading, as in Fluentd.
  assert.equal(found[5], 'err/folder.conf:1: cannot read the file: is a folder');
  assert.equal(found.length, 6);

  const latin1 = problems(() => parseFluentdFile(join(dir, 'err/latin1.conf'), { env: {}, hostname: 'n' }));
  assert.deepEqual(latin1, ['err/latin1.conf:1: the file is not valid UTF-8 (Fluentd reads configs as UTF-8)']);
  const encoding = problems(() => parseFluentdText('@include %zz.conf\n', join(dir, 'err/x.conf'), { env: {}, hostname: 'n' }));
  assert.match(encoding[0]!, /:1: @include %zz\.conf: '%zz\.conf' is not a valid path/);
  const big = problems(() => parseFluentdText('@include big.conf\n', join(dir, 'err/x.conf'), { env: {}, hostname: 'n', limits: { fileBytes: 1000 } }));
  assert.deepEqual(big, ['err/big.conf:1: cannot read the file: is larger than 1000 bytes']);
  const inner = problems(() => parseFluentdText('top 1\n@include bad-syntax.conf\n', join(dir, 'err/x.conf'), { env: {}, hostname: 'n' }));
  assert.deepEqual(inner, ["err/bad-syntax.conf:2: <source> is not closed: expected '</source>' before the end of the file"]);
  const missing = problems(() => parseFluentdFile(join(dir, 'err/none.conf'), { env: {}, hostname: 'n' }));
  assert.deepEqual(missing, ['err/none.conf:1: cannot read the file: no such file']);
});

test('limits: include depth, number of files, section depth', () => {
  for (let i = 0; i < 5; i++) write(`deep/d${i}.conf`, `k${i} v\n@include d${i + 1}.conf\n`);
  write('deep/d5.conf', 'end 1\n');
  const deep = problems(() => parseFluentdFile(join(dir, 'deep/d0.conf'), { env: {}, hostname: 'n', limits: { includeDepth: 3 } }));
  assert.deepEqual(deep, ['deep/d3.conf:2: @include d4.conf: includes nested deeper than 3']);
  for (let i = 0; i < 4; i++) write(`many/m${i}.conf`, `m${i} v\n`);
  const many = problems(() => parseFluentdText('@include many/*.conf\n', join(dir, 'x.conf'), { env: {}, hostname: 'n', limits: { files: 3 } }));
  assert.deepEqual(many, ['x.conf:1: @include many/*.conf: more than 3 files in all']);
  const nested = '<a>\n'.repeat(6) + '</a>\n'.repeat(6);
  assert.deepEqual(textProblems(nested, { limits: { elementDepth: 5 } }), ['test.conf:6: sections nested deeper than 5']);
  assert.equal(parseFluentdText(nested, 't.conf', { env: {}, hostname: 'n', limits: { elementDepth: 6 } }).root.elements.length, 1);
});

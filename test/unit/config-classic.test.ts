/**
 * Fluent Bit's classic format, read as Fluent Bit 5.1.1 reads it. Where the expected error comes from
 * the real binary, its own words are quoted beside the test (`fluent-bit --dry-run -c file`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { scanClassic } from '../../src/config/formats/classic/lines.js';
import { splitTokens } from '../../src/config/formats/classic/rule.js';
import { PLUGINS } from '../../src/plugins.js';
import { lines, loaded, refused, writeFiles } from './config-kit.js';

const scan = (text: string) => {
  const r = scanClassic(text, 'f.conf');
  return { lines: r.lines, problems: lines(r.problems) };
};

test('sections, Key Value entries (the value is the rest of the line, trimmed), comments and blank lines', () => {
  const r = scan('# top comment\n[SERVICE]\n    # indented comment\n    Flush     5\n\n    Log_Level debug \r\n[OUTPUT]\n    Name  stdout\n    Match my*cpu\n    Format json lines # not a comment\n');
  assert.deepEqual(r.problems, []);
  assert.deepEqual(r.lines, [
    { type: 'section', name: 'SERVICE', line: 2 },
    { type: 'entry', key: 'Flush', value: '5', line: 4 },
    { type: 'entry', key: 'Log_Level', value: 'debug', line: 6 },
    { type: 'section', name: 'OUTPUT', line: 7 },
    { type: 'entry', key: 'Name', value: 'stdout', line: 8 },
    { type: 'entry', key: 'Match', value: 'my*cpu', line: 9 },
    { type: 'entry', key: 'Format', value: 'json lines # not a comment', line: 10 },
  ]);
});

test('the first entry sets the indentation; tabs work when used throughout; twice the indentation is accepted', () => {
  assert.deepEqual(scan('[INPUT]\n\tName dummy\n\tTag t\n').problems, []);
  const r = scan('[INPUT]\n  Name dummy\n    Rate 2\n[OUTPUT]\n  Name stdout\n');
  assert.deepEqual(r.problems, []);
  assert.deepEqual(r.lines.filter((l) => l.type === 'entry').map((l) => (l.type === 'entry' ? l.key : '')), ['Name', 'Rate', 'Name']);
});

test("bad indentation is refused with Fluent Bit's reasons, at the line", () => {
  // fluent-bit: "[config] indentation level is too low" / "error in b.conf:3: invalid indentation level"
  assert.deepEqual(scan('[SERVICE]\n    Flush 1\n  Log_Level info\n').problems, ['f.conf:3: invalid indentation level: indentation level is too low']);
  // fluent-bit: "[config] extra indentation level found" / "error in i1.conf:4: invalid indentation level"
  assert.deepEqual(scan('[INPUT]\n    Name dummy\n        Rate 2\n      Tag x\n').problems, ['f.conf:4: invalid indentation level: extra indentation level found']);
  assert.deepEqual(scan('[INPUT]\n    Name dummy\n\tTag x\n').problems, ['f.conf:3: invalid indentation level: inconsistent use of tab and space']);
  assert.deepEqual(scan('[SERVICE]\nFlush 1\n').problems, ['f.conf:2: invalid indentation level: a key must be indented under its section']);
});

test('entries without a value, a tab between key and value, a bad header, an unknown command', () => {
  // fluent-bit: "error in t5.conf:3: undefined value - check config is in valid classic format" (also for a tab)
  assert.deepEqual(scan('[INPUT]\n    Name dummy\n    Key\n    Name\tdummy\n').problems, [
    "f.conf:3: undefined value for key 'Key' - check config is in valid classic format (Key Value, separated by a space)",
    "f.conf:4: undefined value for key 'Name\tdummy' - check config is in valid classic format (Key Value, separated by a space)",
  ]);
  // fluent-bit: "error in i2.conf:3: could not allocate key value pair"
  assert.deepEqual(scan('[INPUT]\n    Name dummy\n    Tag   \n').problems, ["f.conf:3: key 'Tag' has an empty value"]);
  assert.deepEqual(scan('[INPUT\n').problems, ['f.conf:1: bad header definition: a section is [NAME]']);
  assert.deepEqual(scan('@FOO bar\n@SET nothing\n').problems, [
    "f.conf:1: unknown command '@FOO' (the classic format has @INCLUDE and @SET)",
    "f.conf:2: invalid @SET 'nothing': expected @SET NAME=VALUE",
  ]);
});

test('rule lines split on spaces, keeping quoted parts whole', () => {
  assert.deepEqual(splitTokens('"start_state"  "/(Dec \\d+ \\d+\\:\\d+\\:\\d+)(.*)/" "cont"'), ['start_state', '/(Dec \\d+ \\d+\\:\\d+\\:\\d+)(.*)/', 'cont']);
  assert.deepEqual(splitTokens('"a \\"q\\"" /x/'), ['a "q"', '/x/']);
  assert.equal(splitTokens('"open'), 'a quoted part of the rule is not closed');
});

test('the documented example loads: keys and section names in any case, @SET and environment variables', (t) => {
  const dir = writeFiles(t, {
    'fluent-bit.conf': '@SET my_input=dummy\n[SERVICE]\n  Flush        1\n  Daemon       Off\n  Log_Level    info\n\n[input]\n  NAME ${my_input}\n  Tag  cpu.local\n\n[OUTPUT]\n  Name  ${MY_OUTPUT}\n  MATCH *\n',
  });
  const { config, warnings } = loaded(join(dir, 'fluent-bit.conf'), PLUGINS, { environment: { MY_OUTPUT: 'stdout' } });
  assert.equal(config.inputs[0]!.plugin.name, 'dummy');
  assert.equal(config.inputs[0]!.options['tag'], 'cpu.local');
  assert.equal(config.outputs[0]!.plugin.name, 'stdout');
  assert.equal(config.outputs[0]!.matcher!.matches('cpu.local'), true);
  assert.deepEqual(lines(warnings), ["fluent-bit.conf:4: service: key 'daemon' is ignored by floki"]);
  assert.deepEqual(refused(join(dir, 'fluent-bit.conf'), PLUGINS), ["fluent-bit.conf:12: outputs[0]: variable 'MY_OUTPUT' is not set (in @SET or the environment)"]);
});

test('@INCLUDE: relative to the including file, then the main file; wildcards in order; sections stay in their file', (t) => {
  const dir = writeFiles(t, {
    'main.conf': '[SERVICE]\n    Flush 1\n@INCLUDE conf.d/inputs.conf\n    Grace 3\n@INCLUDE outputs/out_*.conf\n',
    'conf.d/inputs.conf': '[INPUT]\n    Name dummy\n    Tag a\n@INCLUDE more.conf\n    Rate 2\n',
    'conf.d/more.conf': '[INPUT]\n    Name dummy\n    Tag b\n',
    'outputs/out_2.conf': '[OUTPUT]\n    Name stdout\n    Match b\n',
    'outputs/out_1.conf': '[OUTPUT]\n    Name stdout\n    Match a\n',
    'outputs/other.conf': '[OUTPUT]\n    Name stdout\n    Match c\n',
  });
  const { config } = loaded(join(dir, 'main.conf'), PLUGINS);
  assert.equal(config.service.graceMs, 3000, 'the SERVICE section goes on after an @INCLUDE');
  assert.deepEqual(config.inputs.map((i) => [i.options['tag'], i.options['rate']]), [['a', 2], ['b', 1]]);
  assert.deepEqual(config.outputs.map((o) => o.matcher!.source), ['a', 'b']);
  assert.deepEqual([config.inputs[0]!.file, config.inputs[0]!.line], [join(dir, 'conf.d/inputs.conf'), 1]);
});

test('@INCLUDE errors: a missing file, a wildcard matching nothing, a file included twice, at the @INCLUDE line', (t) => {
  const dir = writeFiles(t, {
    'main.conf': '@INCLUDE missing.conf\n@INCLUDE nomatch_*.conf\n@INCLUDE a.conf\n[INPUT]\n    Name dummy\n[OUTPUT]\n    Name stdout\n    Match *\n',
    'a.conf': '@INCLUDE main.conf\n',
  });
  assert.deepEqual(refused(join(dir, 'main.conf'), PLUGINS), [
    `main.conf:1: @INCLUDE: cannot read ${join(dir, 'missing.conf')}: ENOENT: no such file`,
    'main.conf:2: @INCLUDE nomatch_*.conf: no file matches',
    `a.conf:1: @INCLUDE: ${join(dir, 'main.conf')} is already included`,
  ]);
});

test('sections floki does not run, and unknown ones, are errors naming the section', (t) => {
  const dir = writeFiles(t, {
    'main.conf': '[PLUGINS]\n    Path /x.so\n[STREAM_TASK]\n    Name t\n[UPSTREAM]\n    name u\n[FOO]\n    bar 1\n[INPUT]\n    Name dummy\n[OUTPUT]\n    Name stdout\n    Match *\n',
  });
  assert.deepEqual(refused(join(dir, 'main.conf'), PLUGINS), [
    "main.conf:5: [UPSTREAM] belongs in an upstream file (named by an output's 'upstream' key), not in the main config",
    'main.conf:7: unknown section [FOO] (expected SERVICE, INPUT, FILTER, OUTPUT, PARSER or MULTILINE_PARSER)',
  ]);
  const only = writeFiles(t, { 'main.conf': '[PLUGINS]\n    Path /x.so\n[STREAM_TASK]\n    Name t\n[INPUT]\n    Name dummy\n[OUTPUT]\n    Name stdout\n    Match *\n' });
  assert.deepEqual(refused(join(only, 'main.conf'), PLUGINS), [
    'main.conf:1: [PLUGINS] is not supported by floki (external plugins (.so) cannot be loaded by floki)',
    'main.conf:3: [STREAM_TASK] is not supported by floki (the stream processor is not supported by floki)',
  ]);
});

test('a key outside any section, a key given twice, an unknown key: errors with file and line', (t) => {
  const dir = writeFiles(t, { 'main.conf': '    Flush 1\n[INPUT]\n    Name dummy\n[OUTPUT]\n    Name stdout\n    Match *\n' });
  // Syntax first: plugins are checked once every file reads.
  assert.deepEqual(refused(join(dir, 'main.conf'), PLUGINS), ["main.conf:1: key 'Flush' is outside a section"]);
  const twice = writeFiles(t, { 'main.conf': '[INPUT]\n    Name dummy\n    Rate 1\n    Rate 2\n    Rat 3\n[OUTPUT]\n    Name stdout\n    Match *\n' });
  // fluent-bit: "dummy: configuration property 'rate' is set 2 times"
  assert.deepEqual(refused(join(twice, 'main.conf'), PLUGINS), [
    "main.conf:5: inputs[0] (dummy): unknown key 'rat' (did you mean 'rate'?)",
    "main.conf:4: inputs[0] (dummy): key 'rate' is set 2 times",
  ]);
});

test('a tab after the key is trimmed from it, as Fluent Bit trims keys', () => {
  assert.deepEqual(scan('[INPUT]\n    Name\t dummy\n').lines[1], { type: 'entry', key: 'Name', value: 'dummy', line: 2 });
});

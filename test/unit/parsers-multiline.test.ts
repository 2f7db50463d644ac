import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MultilineJoiner, type MultilineEntry } from '../../src/parsers/multiline/multiline-joiner.js';
import { ParserRegistry, type ParserSpec } from '../../src/parsers/registry.js';

function builtin(name: string) {
  const p = new ParserRegistry().multilineParser(name);
  assert.ok(p);
  return p;
}

const JAVA = [
  'java.lang.IllegalStateException: boom',
  '\tat a.B.c(B.java:1)',
  '\tat a.B.d(B.java:2)',
  'Caused by: java.io.IOException: closed',
  '\tat a.C.e(C.java:3)',
  '\t... 2 more',
];

function spec(entries: [string, string][], rules?: [string, string, string][]): ParserSpec {
  return {
    file: 'p.conf',
    line: 1,
    entries: entries.map(([key, value], i) => ({ key, value, line: i + 2 })),
    rules: rules?.map(([state, regex, nextState], i) => ({ state, regex, nextState, line: 20 + i })),
  };
}

describe('multiline joiner: time bounds', () => {
  it('a trace split over two appends with a due-check between them is one entry', () => {
    const j = new MultilineJoiner<number>([builtin('java')], { keyContent: 'log' });
    const out: MultilineEntry<number>[] = [];
    JAVA.slice(0, 3).forEach((l, i) => j.appendRecord('k', { log: l }, 10n + BigInt(i), i, 1000 + i, out));
    j.flushDue(1002 + j.flushMs - 1, out);
    assert.equal(out.length, 0, 'not due yet');
    JAVA.slice(3).forEach((l, i) => j.appendRecord('k', { log: l }, 20n + BigInt(i), 3 + i, 1000 + j.flushMs, out));
    j.flushAll(out);
    assert.equal(out.length, 1);
    assert.equal(out[0]!.record.log, JAVA.join('\n'));
    assert.equal(out[0]!.time, 10n, "the first line's time");
    assert.deepEqual(out[0]!.tokens, [0, 1, 2, 3, 4, 5]);
  });

  it('an unfinished entry comes out when its timeout has passed since its last line, not before', () => {
    const j = new MultilineJoiner<number>([builtin('java')], { keyContent: 'log', flushMs: 500 });
    const out: MultilineEntry<number>[] = [];
    j.appendRecord('k', { log: JAVA[0]! }, 1n, 0, 1000, out);
    j.appendRecord('k', { log: JAVA[1]! }, 2n, 1, 1200, out);
    assert.equal(j.nextDueMs(), 1700);
    j.flushDue(1699, out);
    assert.equal(out.length, 0);
    j.flushDue(1700, out);
    assert.equal(out.length, 1);
    assert.equal(out[0]!.record.log, JAVA.slice(0, 2).join('\n'));
    assert.equal(j.nextDueMs(), undefined);
    assert.equal(j.pendingEntries, 0);
  });

  it("a rule leading back to the start state ends the entry at once (python's last line)", () => {
    const j = new MultilineJoiner<number>([builtin('python')]);
    const out: MultilineEntry<number>[] = [];
    for (const [i, l] of ['Traceback (most recent call last):', '  File "x.py", line 1, in <module>', '    f()', 'ValueError: bad'].entries()) j.appendText('f', l, 5n, i, 1, out);
    assert.equal(out.length, 1, 'out without waiting for the next line or the timeout');
    assert.equal(out[0]!.record.log, 'Traceback (most recent call last):\n  File "x.py", line 1, in <module>\n    f()\nValueError: bad\n');
  });
});

describe('multiline joiner: buffer limit', () => {
  it('a trace past the limit is cut at the limit, marked truncated, and the rest comes out on its own', () => {
    const j = new MultilineJoiner<number>([builtin('java')], { keyContent: 'log', bufferLimit: 100 });
    const out: MultilineEntry<number>[] = [];
    const trace = [JAVA[0]!, ...Array.from({ length: 20 }, (_, i) => `\tat a.B.m${i}(B.java:${i})`)];
    trace.forEach((l, i) => j.appendRecord('k', { log: l }, 1n, i, 1, out));
    assert.ok(out.length > 1, 'the cut entry comes out at once, and the lines after it on their own (as Fluent Bit does)');
    assert.match(String(out[1]!.record.log), /^\tat a\.B\.m\d+\(/);
    assert.equal(out[1]!.truncated, false);
    j.flushAll(out);
    const first = out[0]!;
    assert.equal(first.truncated, true);
    assert.deepEqual(first.metadata, { multiline_truncated: true });
    assert.ok(Buffer.byteLength(String(first.record.log)) <= 100);
    assert.ok(String(first.record.log).startsWith(JAVA[0]!));
    assert.deepEqual(out.flatMap((e) => e.tokens).sort((a, b) => a - b), trace.map((_, i) => i), 'every line accounted for');
    assert.equal(j.truncatedEntries, 1);
  });

  it('CRI pieces past the limit are cut at a character boundary and the entry ends with the F piece', () => {
    const j = new MultilineJoiner<number>([builtin('cri')], { bufferLimit: 10 });
    const out: MultilineEntry<number>[] = [];
    j.appendText('f', '2026-01-01T00:00:00.000000001Z stdout P aaaaaaaaé', undefined, 0, 1, out);
    j.appendText('f', '2026-01-01T00:00:00.000000002Z stdout P bbbbbbbbbb', undefined, 1, 1, out);
    assert.equal(out.length, 0, 'held until the F piece');
    j.appendText('f', '2026-01-01T00:00:00.000000003Z stdout F cc', undefined, 2, 1, out);
    assert.equal(out.length, 1);
    assert.equal(out[0]!.record.log, 'aaaaaaaaé', 'é is two bytes: 10 bytes hold it whole');
    assert.equal(out[0]!.truncated, true);
    assert.equal(out[0]!.time, 1767225600000000001n);
    assert.deepEqual(out[0]!.tokens, [0, 1, 2]);
  });
});

describe('multiline joiner: streams, groups and parsers', () => {
  it('docker pieces are joined per stream (key_group) and the record is the first piece’s', () => {
    const j = new MultilineJoiner<number>([builtin('docker')]);
    const out: MultilineEntry<number>[] = [];
    j.appendText('f', '{"log":"a ","stream":"stdout","time":"2024-01-01T00:00:00.1Z"}', undefined, 0, 1, out);
    j.appendText('f', '{"log":"x ","stream":"stderr","time":"2024-01-01T00:00:00.2Z"}', undefined, 1, 1, out);
    j.appendText('f', '{"log":"b\\n","stream":"stdout","time":"2024-01-01T00:00:00.3Z"}', undefined, 2, 1, out);
    j.appendText('f', '{"log":"y\\n","stream":"stderr","time":"2024-01-01T00:00:00.4Z"}', undefined, 3, 1, out);
    assert.deepEqual(
      out.map((e) => [e.record, e.time, e.tokens]),
      [
        [{ log: 'a b\n', stream: 'stdout', time: '2024-01-01T00:00:00.1Z' }, 1704067200100000000n, [0, 2]],
        [{ log: 'x y\n', stream: 'stderr', time: '2024-01-01T00:00:00.2Z' }, 1704067200200000000n, [1, 3]],
      ],
    );
  });

  it('streams are independent: two keys interleaved join separately', () => {
    const j = new MultilineJoiner<string>([builtin('java')], { keyContent: 'log' });
    const out: MultilineEntry<string>[] = [];
    JAVA.forEach((l, i) => {
      j.appendRecord('a', { log: l }, 1n, `a${i}`, 1, out);
      j.appendRecord('b', { log: l }, 2n, `b${i}`, 1, out);
    });
    j.flushAll(out);
    assert.equal(out.length, 2);
    for (const e of out) assert.equal(e.record.log, JAVA.join('\n'));
  });

  it('with docker and cri, each line goes to the parser that reads it', () => {
    const j = new MultilineJoiner<number>([builtin('docker'), builtin('cri')]);
    const out: MultilineEntry<number>[] = [];
    j.appendText('f', '2024-01-01T00:00:00Z stdout F cri line', undefined, 0, 1, out);
    j.appendText('f', '{"log":"docker line\\n","stream":"stdout","time":"2024-01-01T00:00:00Z"}', undefined, 1, 1, out);
    j.appendText('f', 'neither', 7n, 2, 1, out);
    assert.deepEqual(
      out.map((e) => e.record),
      [{ time: '2024-01-01T00:00:00Z', stream: 'stdout', _p: 'F', log: 'cri line' }, { log: 'docker line\n', stream: 'stdout', time: '2024-01-01T00:00:00Z' }, { log: 'neither' }],
    );
    assert.equal(out[2]!.time, 7n);
  });

  it('a record without the content key passes unchanged, ending what was pending', () => {
    const j = new MultilineJoiner<number>([builtin('java')], { keyContent: 'log' });
    const out: MultilineEntry<number>[] = [];
    j.appendRecord('k', { log: JAVA[0]! }, 1n, 0, 1, out);
    const other = { message: 'no log key' };
    j.appendRecord('k', other, 2n, 1, 1, out, { trace_id: 'x' });
    assert.equal(out.length, 2);
    assert.equal(out[0]!.record.log, JAVA[0]);
    assert.equal(out[1]!.record, other);
    assert.deepEqual(out[1]!.metadata, { trace_id: 'x' });
  });

  it("the lines' metadata are merged, the first value of a key winning", () => {
    const j = new MultilineJoiner<number>([builtin('java')], { keyContent: 'log' });
    const out: MultilineEntry<number>[] = [];
    j.appendRecord('k', { log: JAVA[0]! }, 1n, 0, 1, out, { a: 1 });
    j.appendRecord('k', { log: JAVA[1]! }, 1n, 1, 1, out, { a: 2, b: 3 });
    j.flushAll(out);
    assert.deepEqual(out[0]!.metadata, { a: 1, b: 3 });
  });

  it('flushKey hands back what a closed file had pending and forgets the key', () => {
    const j = new MultilineJoiner<number>([builtin('go')]);
    const out: MultilineEntry<number>[] = [];
    j.appendText('f', 'panic: x', 1n, 0, 1, out);
    j.appendText('g', 'panic: y', 1n, 1, 1, out);
    j.flushKey('f', out);
    assert.deepEqual(
      out.map((e) => e.record.log),
      ['panic: x\n'],
    );
    assert.equal(j.pendingEntries, 1);
  });
});

describe('user multiline parsers', () => {
  it('rules with states, a parser and flush_timeout', () => {
    const r = new ParserRegistry();
    assert.deepEqual(
      r.defineMultiline(
        spec(
          [
            ['name', 'multiline-app'],
            ['type', 'regex'],
            ['flush_timeout', '1000'],
            ['parser', 'app-json'],
            ['key_content', 'msg'],
          ],
          [
            ['start_state', '/^\\d{4}-\\d\\d-\\d\\d /', 'cont'],
            ['cont', '/^\\s+/', 'cont'],
          ],
        ),
      ),
      [],
    );
    assert.deepEqual(r.validate(), [{ file: 'p.conf', line: 5, message: 'multiline parser "multiline-app": parser: no parser named "app-json"' }]);
    assert.deepEqual(r.define(spec([['name', 'app-json'], ['format', 'json']])), []);
    assert.deepEqual(r.validate(), []);
    const p = r.multilineParser('MULTILINE-APP')!;
    assert.equal(p.flushMs, 1000);
    const j = new MultilineJoiner<number>([p]);
    const out: MultilineEntry<number>[] = [];
    j.appendText('f', '{"msg":"2024-01-01 start","level":"error"}', 3n, 0, 1, out);
    j.appendText('f', '{"msg":"  more","level":"x"}', 4n, 1, 1, out);
    j.appendText('f', '{"msg":"2024-01-02 next"}', 5n, 2, 1, out);
    assert.deepEqual(out[0]!.record, { msg: '2024-01-01 start\n  more', level: 'error' });
  });

  it('problems name the file, line and key', () => {
    const r = new ParserRegistry();
    assert.deepEqual(r.defineMultiline(spec([['name', 'a'], ['type', 'regex']], [['cont', '/x/', 'cont']])), [
      { file: 'p.conf', line: 20, message: 'multiline parser "a": rule: the first rule must be a start_state rule' },
    ]);
    assert.deepEqual(r.defineMultiline(spec([['name', 'b'], ['type', 'regex']], [['start_state', '/x/', 'nowhere']])), [
      { file: 'p.conf', line: 20, message: 'multiline parser "b": rule: next state "nowhere" is not the state of any rule' },
    ]);
    assert.match(r.defineMultiline(spec([['name', 'c'], ['type', 'regex']], [['start_state', '/(?>x)/', '']]))[0]!.message, /atomic group/);
    assert.deepEqual(r.defineMultiline(spec([['name', 'd'], ['type', 'sometimes'], ['flush_timeout', 'soon'], ['colour', 'red']])), [
      { file: 'p.conf', line: 3, message: 'multiline parser "d": type: unknown type "sometimes" (regex, endswith or equal)' },
      { file: 'p.conf', line: 4, message: 'multiline parser "d": flush_timeout: expected milliseconds (4000) or a duration (4s), got "soon"' },
      { file: 'p.conf', line: 5, message: 'multiline parser "d": unknown key "colour"' },
    ]);
    assert.deepEqual(r.defineMultiline(spec([['name', 'e'], ['type', 'endswith']])), [{ file: 'p.conf', line: 1, message: 'multiline parser "e": type endswith needs a match_string' }]);
    assert.deepEqual(r.defineMultiline(spec([['name', 'java'], ['type', 'endswith'], ['match_string', 'x']])), [
      { file: 'p.conf', line: 1, message: 'multiline parser "java": a multiline parser named "java" is already defined' },
    ]);
  });

  it('endswith with negate, and equal', () => {
    const r = new ParserRegistry();
    r.defineMultiline(spec([['name', 'cont'], ['type', 'endswith'], ['match_string', '\\'], ['negate', 'on']]));
    const j = new MultilineJoiner<number>([r.multilineParser('cont')!]);
    const out: MultilineEntry<number>[] = [];
    for (const [i, l] of ['one \\', 'two \\', 'three', 'four'].entries()) j.appendText('f', l, 1n, i, 1, out);
    assert.deepEqual(
      out.map((e) => e.record.log),
      ['one \\\ntwo \\\nthree\n', 'four\n'],
    );
  });
});

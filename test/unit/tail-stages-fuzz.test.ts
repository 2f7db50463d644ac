/**
 * Property-based (fast-check): whatever a file holds (container lines, pieces, stack-trace lines,
 * docker JSON, invalid UTF-8, `\r`, arbitrary bytes), the tail's line pipeline in each of its modes
 * never throws, never lets the safe position go back or past what was read, makes only records with
 * times Loki can store, and holds nothing once flushed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { timeInRange } from '../../src/core/limits.js';
import { lineDecoderFor } from '../../src/inputs/tail/line-pipeline.js';
import { resolveTailOptions, tailParsers } from '../../src/inputs/tail/options.js';
import { ParserRegistry, type ParserSpec } from '../../src/parsers/registry.js';
import { runs } from '../helpers/fuzz.js';

function registry(): ParserRegistry {
  const r = new ParserRegistry();
  const spec = (entries: [string, string][]): ParserSpec => ({ file: 'parsers.conf', line: 1, entries: entries.map(([key, value], i) => ({ key, value, line: i + 1 })) });
  for (const s of [
    spec([['name', 'docker'], ['format', 'json'], ['time_key', 'time'], ['time_format', '%Y-%m-%dT%H:%M:%S.%L'], ['time_keep', 'on']]),
    spec([['name', 'json'], ['format', 'json']]),
    spec([['name', 'first'], ['format', 'regex'], ['regex', '^(?<time>\\d{4}-\\d\\d-\\d\\d) (?<message>.*)'], ['time_key', 'time'], ['time_format', '%Y-%m-%d']]),
    spec([['name', 'cont'], ['format', 'regex'], ['regex', '^ID: (?<id>\\d+)$']]),
    spec([['name', 'dfirst'], ['format', 'regex'], ['regex', '^\\{"log":"(?<d>\\d{4})']]),
  ]) {
    assert.deepEqual(r.define(s), []);
  }
  return r;
}

/** The modes, as the options a config gives. */
const MODES: Record<string, Record<string, unknown>> = {
  'cri with stack-trace parsers': { 'multiline.parser': ['cri', 'java', 'python', 'go', 'ruby'] },
  'docker, cri': { 'multiline.parser': ['docker', 'cri'] },
  'stack-trace parsers on text': { 'multiline.parser': ['java', 'python', 'go'], path_key: 'file', offset_key: 'off' },
  'docker_mode with parser and firstline parser': { docker_mode: true, docker_mode_flush: 1, docker_mode_parser: 'dfirst', parser: 'docker' },
  'old multiline': { multiline: true, parser_firstline: 'first', parser_N: [{ option: 'parser_1', value: 'cont' }], multiline_flush: 1000 },
  parser: { parser: 'json', offset_key: 'off' },
};

const line = fc.oneof(
  fc.constantFrom(
    '2026-11-30T10:20:00.000000001Z stderr F java.lang.IllegalStateException: boom',
    '2026-11-30T10:20:00.000000002Z stderr F \tat a.b(C.java:1)',
    '2026-11-30T10:20:00.000000003Z stderr P Caused by: x',
    '2026-11-30T10:20:00.000000004Z stderr F \t... 2 more',
    '2026-11-30T10:20:00.000000005Z stdout F Traceback (most recent call last):',
    '2026-11-30T10:20:00.000000006Z stdout P   File "a.py", line 1',
    '1960-01-01T00:00:00Z stdout F before 1970',
    '2300-01-01T00:00:00Z stderr F after 2262',
    '{"log":"2026-11-30 first\\n","stream":"stdout","time":"2026-11-30T10:20:00.1Z"}',
    '{"log":"piece ","stream":"stderr","time":"2026-11-30T10:20:00.2Z"}',
    '{"log":"\\tat x\\n","stream":"stdout","time":"2300-01-01T00:00:00.1Z"}',
    '2026-11-30 first line',
    'ID: 42',
    'panic: oops',
    '',
    '\r',
  ),
  fc.string({ maxLength: 80 }),
  fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b).toString('latin1')),
);

test('every mode of the line pipeline takes any lines: no throw, positions never back, records storable, nothing held once flushed', () => {
  const parsers = registry();
  for (const [mode, options] of Object.entries(MODES)) {
    const o = resolveTailOptions({ path: ['/x/*.log'], ...options }, 'tail.0');
    const p = tailParsers(o, parsers);
    fc.assert(
      fc.property(fc.array(fc.tuple(line, fc.boolean()), { maxLength: 40 }), (items) => {
        const d = lineDecoderFor({ ...o, maxLineBytes: 64 }, p, { tag: 't', path: '/x/a.log' });
        let offset = 0;
        let safe = 0;
        for (const [text, flush] of items) {
          const bytes = Buffer.from(text.replace(/\n/g, ' '), 'latin1');
          d.line(bytes, 0, Math.min(bytes.length, 64), offset, bytes.length > 64);
          offset += bytes.length + 1;
          if (flush) d.flushDue(Number.POSITIVE_INFINITY);
          const s = d.safeOffset(offset);
          assert.ok(s >= safe && s <= offset, `${mode}: safe offset ${s} after ${safe}, read ${offset}`);
          safe = s;
        }
        d.flushAll();
        assert.equal(d.hasPending, false, mode);
        assert.equal(d.safeOffset(offset), offset, mode);
        for (const e of d.takeEvents()) {
          assert.ok(timeInRange(e.time), `${mode}: time ${e.time}`);
          assert.equal(typeof e.record, 'object');
        }
      }),
      runs(200),
    );
  }
});

/**
 * The tail input's Fluent Bit keys against what Fluent Bit 5.1.1 printed for the same files and keys
 * (test/fixtures/tail/cases.json, captured from the real binary): `parser`, `docker_mode`,
 * `docker_mode_parser`, the old `multiline` with `parser_firstline` and `parser_N`, `tag_regex` and
 * tag expansion, `path_key`, `offset_key`, `key`, `skip_empty_lines`, `\r\n` lines, times Loki cannot
 * store. Records are compared with their keys in order (Loki lines are the records as JSON), tags
 * exactly, times to the nanosecond (or within the run, for Fluent Bit's "now").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { nowNs } from '../../src/core/event.js';
import { ROOT } from '../helpers/floki-process.js';
import { startPipeline, tempDir } from '../helpers/tail-harness.js';
import { waitFor } from '../helpers/wait.js';

interface Printed {
  tag: string;
  time: string;
  record: Record<string, unknown>;
}

interface Case {
  name: string;
  files: string[];
  input: Record<string, string>;
  parsers?: string;
  /** Why floki's order differs: then records are compared as a set. */
  unordered?: string;
  note?: string;
  fluentBit: Printed[];
}

const FIXTURES = join(ROOT, 'test', 'fixtures', 'tail');
const STOCK_PARSERS = join(ROOT, 'configs', 'fluent-bit', 'parsers.conf');
const cases = (JSON.parse(readFileSync(join(FIXTURES, 'cases.json'), 'utf8')) as { cases: Case[] }).cases;

/**
 * Where floki differs on purpose (the case's note says why): Fluent Bit cannot pack a time past 2106
 * (32-bit seconds) and drops the line at Loki's last nanosecond, which floki keeps.
 */
const FLOKI_ALSO: Record<string, { at: number; printed: Printed }> = {
  'time-range': {
    at: 0,
    printed: {
      tag: 'tail.0',
      time: '9223372036854775807',
      record: { time: '2262-04-11T23:47:16.854775807Z', stream: 'stdout', logtag: 'F', message: 'the last storable nanosecond' },
    },
  },
};

for (const c of cases) {
  test(`${c.name}: the records Fluent Bit 5.1.1 makes of the same file`, async (t) => {
    const dir = tempDir(t);
    for (const f of c.files) copyFileSync(join(FIXTURES, f), join(dir, basename(f)));
    writeFileSync(join(dir, 'parsers.conf'), c.parsers ?? readFileSync(STOCK_PARSERS, 'utf8'));
    const keys = Object.entries(c.input)
      .map(([k, v]) => `    ${k} ${v}\n`)
      .join('');
    const config = `[SERVICE]\n    Parsers_File parsers.conf\n[INPUT]\n    Name tail\n    Read_from_Head true\n    Path ${dir}/*.log\n${keys}[OUTPUT]\n    Name capture\n    Match *\n`;
    const expected = [...c.fluentBit];
    const also = FLOKI_ALSO[c.name];
    if (also) expected.splice(also.at, 0, also.printed);

    const before = nowNs();
    const p = await startPipeline(t, config, join(dir, 'fluent-bit.conf'));
    await waitFor(() => p.capture.events.length >= expected.length, `${expected.length} records`, 10_000);
    const after = nowNs();

    const dotted = dir.replaceAll('/', '.').slice(1);
    const got = p.capture.events.map((e) => {
      const now = e.time >= before && e.time <= after;
      // floki's own addition, on every record of a file named as kubelet names container logs (the
      // README's "The tail input, in detail"); Fluent Bit's kubernetes filter adds it there.
      const { kubernetes, ...record } = e.record;
      if (kubernetes !== undefined) assert.equal(Object.keys(e.record).at(-1), 'kubernetes', 'kubernetes comes last');
      return [e.tag.replaceAll(dotted, '@DIR@'), now ? 'now' : e.time.toString(), JSON.stringify(record).replaceAll(dir, '@DIR@')];
    });
    const want = expected.map((r) => [r.tag, r.time, JSON.stringify(r.record)]);
    if (c.unordered) assert.deepEqual([...got].sort(), [...want].sort(), c.unordered);
    else assert.deepEqual(got, want);
    if (c.name === 'time-range') assert.equal(await p.metric('floki_input_skipped_records_total', { reason: 'time_out_of_range' }), 2);
  });
}

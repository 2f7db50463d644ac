/**
 * The tail input's `multiline.parser` on the multiline fixtures, against what Fluent Bit 5.1.1's tail
 * printed for them (test/fixtures/multiline/cases.json, the cases without the multiline filter): the
 * built-in `java`, `python`, `go`, `ruby`, `docker` and `cri` parsers and a user's regex parser, on
 * stack traces in text files, the multiline documentation page's examples, and split container lines.
 * Records are compared with their keys in order; from `cri` and `docker` records floki keeps neither
 * the runtime's `time` nor `_p` (README, "The tail input, in detail").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { nowNs } from '../../src/core/event.js';
import { ROOT } from '../helpers/floki-process.js';
import { startPipeline, tempDir } from '../helpers/tail-harness.js';
import { waitFor } from '../helpers/wait.js';

interface Case {
  name: string;
  files: string[];
  tail: string;
  parsers?: string;
  filter?: unknown;
  fluentBit: Record<string, { record: Record<string, unknown>; time: string }[]>;
}

const FIXTURES = join(ROOT, 'test', 'fixtures', 'multiline');
const cases = (JSON.parse(readFileSync(join(FIXTURES, 'cases.json'), 'utf8')) as { cases: Case[] }).cases.filter((c) => c.filter === undefined);

test('multiline.parser on the multiline fixtures gives the records Fluent Bit 5.1.1 printed', { concurrency: true }, async (t) => {
  assert.ok(cases.length >= 10);
  const runs = cases.map((c) =>
    t.test(c.name, async (t) => {
      const dir = tempDir(t);
      for (const f of c.files) copyFileSync(join(FIXTURES, f), join(dir, basename(f)));
      writeFileSync(join(dir, 'parsers.conf'), c.parsers ?? '');
      const config = `[SERVICE]\n    Parsers_File parsers.conf\n[INPUT]\n    Name tail\n    Tag ml.*\n    Path ${dir}/*.log\n    Read_From_Head true\n    multiline.parser ${c.tail}\n[OUTPUT]\n    Name capture\n    Match *\n`;
      const expected = Object.values(c.fluentBit).reduce((n, rs) => n + rs.length, 0);
      const before = nowNs();
      const p = await startPipeline(t, config, join(dir, 'fluent-bit.conf'));
      await waitFor(() => p.capture.events.length >= expected, `${expected} records`, 10_000);
      const after = nowNs();
      assert.equal(p.capture.events.length, expected);
      for (const [file, printed] of Object.entries(c.fluentBit)) {
        const ours = p.capture.events.filter((e) => e.tag.endsWith(basename(file)));
        const got = ours.map((e, i) => {
          // floki's own kubernetes map (kubelet-named files), always last.
          const { kubernetes: _kubernetes, ...record } = e.record;
          let time = e.time >= before && e.time <= after ? 'now' : e.time.toString();
          // Fluent Bit reads a CRI time's fraction through a double: 1 ns low for some (README, Parsers).
          const theirs = printed[i]?.time;
          if (theirs !== undefined && theirs !== 'now' && time !== 'now' && e.time - BigInt(theirs) === 1n && c.tail.includes('cri')) time = theirs;
          return [time, JSON.stringify(record)];
        });
        const want = printed.map(({ record, time }) => {
          const { time: _runtimeTime, _p, ...rest } = record;
          return [time, JSON.stringify(/^(cri|docker)\b/.test(c.tail) ? rest : record)];
        });
        assert.deepEqual(got, want, file);
      }
    }),
  );
  await Promise.all(runs);
});

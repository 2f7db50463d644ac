import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  fluentdPosEntryFor,
  fluentdResumeOffset,
  parseFluentdPosFile,
  UNWATCHED_POSITION,
} from '../../src/inputs/tail/fluentd-pos-file.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'fluentd', 'pos-files');

/** A line as Fluentd's PositionFile writes it: "%s\t%016x\t%016x\n". */
function line(path: string, pos: bigint, ino: bigint): string {
  return `${path}\t${pos.toString(16).padStart(16, '0')}\t${ino.toString(16).padStart(16, '0')}\n`;
}

const APP = '/var/log/containers/app-7d4b9c-x2x9z_default_app-4f2a9c0e8b7d6a5f4e3d2c1b0a99887766554433221100ffeeddccbbaa998877.log';
const GONE = '/var/log/containers/gone-5c8d_default_gone-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.log';
const FRESH = '/var/log/containers/fresh-1_default_fresh-fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210.log';

test('a pos file written by Fluentd\'s rules: entries, unwatched lines dropped, the last of a path kept in its first place', () => {
  const content =
    line(APP, 1234n, 0xa1b2c3n) +
    line(GONE, UNWATCHED_POSITION, 0xa1b2c4n) + // Fluentd stopped watching it (rotated away, or removed)
    line(FRESH, 0n, 0n) + // an entry Fluentd created and never filled
    line(APP, 4321n, 0xa1b2c3n) + // the same path again: the later line wins
    'Unparsable line\n' +
    'inode32bit\t0000000000000010\t00a1b2c5\n' + // a short inode, as old Fluentd wrote them
    `${'/var/log/x.log'}\t00000000000000ff\t00000000000000aa trailing text\n`;
  const { entries, unparsable } = parseFluentdPosFile(Buffer.from(content));
  assert.deepEqual(
    entries.map((e) => [e.path, e.pos, e.ino, e.line]),
    [
      [APP, 4321n, 0xa1b2c3n, 4],
      [FRESH, 0n, 0n, 3],
      ['inode32bit', 16n, 0xa1b2c5n, 6],
      ['/var/log/x.log', 255n, 170n, 7],
    ],
  );
  assert.deepEqual(unparsable, [{ line: 5, text: 'Unparsable line' }]);
});

test('follow_inodes: entries are keyed by inode, the last line of an inode wins', () => {
  const content = line('/logs/a.log', 10n, 7n) + line('/logs/a.log.1', 20n, 7n) + line('/logs/b.log', 5n, 8n);
  const { entries } = parseFluentdPosFile(content, true);
  assert.deepEqual(entries.map((e) => [e.path, e.pos, e.ino]), [
    ['/logs/a.log.1', 20n, 7n],
    ['/logs/b.log', 5n, 8n],
  ]);
  const pos = parseFluentdPosFile(content, true);
  assert.equal(fluentdPosEntryFor(pos, { path: '/logs/a.log', ino: 7n }, true)?.pos, 20n);
  assert.equal(fluentdPosEntryFor(pos, { path: '/logs/a.log', ino: 9n }, true), undefined);
  assert.equal(fluentdPosEntryFor(parseFluentdPosFile(content), { path: '/logs/a.log', ino: 9n })?.pos, 10n);
});

test('lines from a running Fluentd (fluent/fluentd#3043)', () => {
  const { entries, unparsable } = parseFluentdPosFile(readFileSync(join(FIXTURES, 'fluentd-issue-3043.pos')));
  assert.deepEqual(unparsable, []);
  assert.deepEqual(
    entries.map((e) => [e.path.replace(/^.*\/(waysheet-api-[^_]+)_.*$/, '$1'), e.pos, e.ino]),
    [
      ['waysheet-api-7bcb56cb79-kxgx8', 0x3a4n, 0x6fa2c2n],
      ['waysheet-api-b9d779579-fcpb8', 0x130501n, 0x719b6cn],
    ],
  );
});

test('a corrupted pos file from a running Fluentd (fluent/fluentd#1598): read as Fluentd reads it', () => {
  const { entries, unparsable } = parseFluentdPosFile(readFileSync(join(FIXTURES, 'fluentd-pr-1598-corrupted.pos')));
  // Fluentd's pattern takes the path, the first hex run and the next one, whatever follows.
  assert.deepEqual(
    entries.map((e) => [e.path.replace(/^.*_(POD-[0-9a-f]{6}).*$/, '$1'), e.pos, e.ino]),
    [
      ['POD-751094', 0n, 0x38991800000000000b8113fn],
      ['POD-b593ce', 0x6cn, 0x273f05000000000012a834n],
    ],
  );
  assert.equal(unparsable.length, 1);
  assert.equal(unparsable[0]!.line, 3);
});

test('where Fluentd resumes a file it finds on start', () => {
  const entry = { path: APP, pos: 4321n, ino: 0xa1b2c3n, line: 1 };
  // Same inode: at the saved position, not a byte earlier or later.
  assert.equal(fluentdResumeOffset(entry, { ino: 0xa1b2c3n, size: 10_000n }, false), 4321n);
  assert.equal(fluentdResumeOffset(entry, { ino: 0xa1b2c3n, size: 4321n }, true), 4321n);
  // Same inode but shorter than the position: truncated, so from the start.
  assert.equal(fluentdResumeOffset(entry, { ino: 0xa1b2c3n, size: 100n }, false), 0n);
  // Another inode: the file was replaced while Fluentd was down; the new one from the start.
  assert.equal(fluentdResumeOffset(entry, { ino: 0xfffn, size: 10_000n }, false), 0n);
  // Unknown to Fluentd, or an entry never filled: read_from_head decides.
  for (const none of [undefined, { ...entry, pos: 0n, ino: 0n }]) {
    assert.equal(fluentdResumeOffset(none, { ino: 5n, size: 777n }, true), 0n);
    assert.equal(fluentdResumeOffset(none, { ino: 5n, size: 777n }, false), 777n);
  }
});

test('an empty or missing-newline pos file', () => {
  assert.deepEqual(parseFluentdPosFile(''), { entries: [], unparsable: [] });
  assert.deepEqual(parseFluentdPosFile('/a\t1\t2').entries.map((e) => [e.path, e.pos, e.ino]), [['/a', 1n, 2n]]);
  assert.deepEqual(parseFluentdPosFile('\n\n').unparsable.map((u) => u.line), [1, 2]);
});

test("80 generated pos files: the entries are those Fluentd keeps when it compacts the file on start", () => {
  // Fluentd's compacted file, printed by fluent/fluentd's PositionFile.load (position_file.rb, commit
  // ff8682d7, Ruby 3.1); see test/fixtures/fluentd/pos-files/README.md.
  const cases = JSON.parse(readFileSync(join(FIXTURES, 'compaction-results.json'), 'utf8')) as { content: string; follow_inodes: boolean; fluentd_compacted: string }[];
  assert.equal(cases.length, 80);
  for (const c of cases) {
    const { entries } = parseFluentdPosFile(c.content, c.follow_inodes);
    assert.equal(entries.map((e) => line(e.path, e.pos, e.ino)).join(''), c.fluentd_compacted, JSON.stringify(c.content));
  }
});

/**
 * floki's first positions from Fluentd's pos file (fluentd-pos-seed.ts): where each file found at
 * start resumes, as Fluentd itself would resume it (in_tail.rb, checked in fluentd-pos-file.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { seedFromFluentdPosFile } from '../../src/inputs/tail/fluentd-pos-seed.js';
import { hashHead } from '../../src/inputs/tail/file-identity.js';
import { writeFiles } from './config-kit.js';

const hex = (n: number | bigint) => n.toString(16).padStart(16, '0');
const ino = (p: string) => statSync(p, { bigint: true }).ino;

test('same inode: its position; truncated: 0; replaced: 0; inode 0 or unknown: per read_from_head; unwatched: left out', async (t) => {
  const dir = writeFiles(t, { 'a.log': 'a1\na2\n', 'short.log': 'x\n', 'replaced.log': 'r1\n', 'zero.log': 'z1\nz2\n', 'unwatched.log': 'u1\n', 'unknown.log': 'k1\n' });
  const f = (n: string) => join(dir, n);
  const pos = f('x.pos');
  writeFileSync(
    pos,
    [
      `${f('a.log')}\t${hex(3)}\t${hex(ino(f('a.log')))}`,
      `${f('short.log')}\t${hex(100)}\t${hex(ino(f('short.log')))}`,
      `${f('replaced.log')}\t${hex(2)}\t${hex(ino(f('replaced.log')) + 7n)}`,
      `${f('zero.log')}\t${hex(0)}\t${hex(0)}`,
      `${f('unwatched.log')}\tffffffffffffffff\t${hex(ino(f('unwatched.log')))}`,
      'garbage line',
      '',
    ].join('\n'),
  );
  const paths = ['a.log', 'short.log', 'replaced.log', 'zero.log', 'unwatched.log', 'unknown.log'].map(f);
  const fromEnd = await seedFromFluentdPosFile(pos, paths, false);
  assert.equal(fromEnd.unparsable, 1);
  assert.deepEqual(
    fromEnd.entries.map((e) => [e.path, e.offset]),
    [
      [f('a.log'), 3],
      [f('short.log'), 0],
      [f('replaced.log'), 0],
      [f('zero.log'), 6],
    ],
  );
  const a = fromEnd.entries[0]!;
  assert.equal(a.ino, String(ino(f('a.log'))));
  assert.equal(a.head_len, 6);
  assert.equal(a.head_hash, hashHead(Buffer.from('a1\na2\n')));
  const fromHead = await seedFromFluentdPosFile(pos, paths, true);
  assert.equal(fromHead.entries.find((e) => e.path === f('zero.log'))!.offset, 0);
  assert.deepEqual(await seedFromFluentdPosFile(f('missing.pos'), paths, false), { entries: [], unparsable: 0 });
});

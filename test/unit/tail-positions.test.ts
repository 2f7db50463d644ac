import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { SettledOffsets } from '../../src/inputs/tail/settled-offsets.js';
import { PositionsFile, PositionsFileError, type PositionEntry } from '../../src/inputs/tail/positions-file.js';
import { hashHead, HEAD_BYTES, type FileIdentity } from '../../src/inputs/tail/file-identity.js';
import { locateFile, rotatedSiblings, rotationBase } from '../../src/inputs/tail/rotation.js';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'floki-tail-pos-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('the committed offset is the end of the longest settled prefix, whatever order settlements come in', () => {
  const s = new SettledOffsets(10);
  const a = s.add(100);
  const b = s.add(200);
  s.advance(250); // lines that produced no events, after b
  const c = s.add(300);
  assert.equal(s.committed, 10);
  c();
  b();
  assert.equal(s.committed, 10, 'a gap at the front holds everything back');
  a();
  assert.equal(s.committed, 300);
  assert.equal(s.outstanding, 0);
  a(); // settling twice changes nothing
  s.advance(350);
  assert.equal(s.committed, 350, 'nothing outstanding: moves at once');
});

test('a long run of settlements keeps the list short', () => {
  const s = new SettledOffsets(0);
  const pending = Array.from({ length: 5000 }, (_, i) => s.add(i + 1));
  for (const p of pending) p();
  assert.equal(s.committed, 5000);
  assert.equal(s.outstanding, 0);
});

test('positions are written atomically and read back; a torn or foreign file is refused', async (t) => {
  const dir = tempDir(t);
  const db = new PositionsFile(join(dir, 'tail.db'));
  assert.deepEqual(db.load(), []);
  const entry: PositionEntry = { path: '/var/log/containers/a.log', real_path: '/var/log/pods/x/a/0.log', dev: '64768', ino: '18446744073709551615', head_len: 10, head_hash: 'ab', offset: 42 };
  await Promise.all([db.save([entry]), db.save([{ ...entry, offset: 43 }])]);
  assert.deepEqual(db.load(), [{ ...entry, offset: 43 }], 'the later save wins; inodes above 2^53 kept exactly');
  assert.deepEqual(readdirSync(dir), ['tail.db'], 'no temporary file left behind');
  writeFileSync(join(dir, 'tail.db'), '{"version":1,"files":[{"pa');
  assert.throws(() => db.load(), PositionsFileError);
  writeFileSync(join(dir, 'tail.db'), '[]');
  assert.throws(() => db.load(), /not a floki tail positions file/);
});

test('a file rotated while floki was down is found by identity: renamed, or renamed and gzipped', async (t) => {
  const dir = tempDir(t);
  const live = join(dir, '0.log');
  const content = Buffer.from(Array.from({ length: 100 }, (_, i) => `2026-11-25T10:00:00.${String(i).padStart(9, '0')}Z stdout F line ${i}\n`).join(''));
  writeFileSync(live, content);
  const st = statSync(live, { bigint: true });
  const head = content.subarray(0, Math.min(HEAD_BYTES, content.length));
  const id: FileIdentity = { dev: String(st.dev), ino: String(st.ino), headLen: head.length, headHash: hashHead(head) };

  assert.equal((await locateFile(id, live))?.path, live, 'still there');
  renameSync(live, join(dir, '0.log.20261125-100000'));
  writeFileSync(live, 'a new file with other bytes\n');
  assert.equal((await locateFile(id, live))?.path, join(dir, '0.log.20261125-100000'));

  // kubelet compresses it later: a new inode, the same decompressed head.
  writeFileSync(join(dir, '0.log.20261125-100000.gz'), gzipSync(content));
  rmSync(join(dir, '0.log.20261125-100000'));
  const found = await locateFile(id, live);
  assert.equal(found?.path, join(dir, '0.log.20261125-100000.gz'));
  assert.equal(found?.gzip, true);

  // The live file's device and inode but other first bytes: a reused inode is not the old file.
  const now = statSync(live, { bigint: true });
  assert.equal(await locateFile({ dev: String(now.dev), ino: String(now.ino), headLen: 5, headHash: hashHead(Buffer.from('other')) }, live), undefined);

  assert.equal(rotationBase('0.log.20230810-082034.gz'), '0.log');
  assert.equal(rotationBase('app.log.1'), 'app.log');
  assert.equal(rotationBase('0.log'), '0.log');
  assert.deepEqual((await rotatedSiblings(live)).map((r) => r.path), [join(dir, '0.log.20261125-100000.gz')]);
  assert.ok(readFileSync(live, 'utf8').startsWith('a new file'));
});

test('db.sync: off syncs nothing, normal the file before the rename, full and extra the folder too; each writes the same positions', async (t) => {
  const dir = tempDir(t);
  const entry: PositionEntry = { path: '/var/log/a.log', real_path: '/var/log/a.log', dev: '1', ino: '2', head_len: 0, head_hash: '', offset: 42 };
  const { open } = await import('node:fs/promises');
  const probe = await open(join(dir, 'probe'), 'w');
  const proto = Object.getPrototypeOf(probe) as { sync: () => Promise<void> };
  await probe.close();
  const original = proto.sync;
  let syncs = 0;
  proto.sync = function (this: unknown) {
    syncs++;
    return original.call(this);
  };
  t.after(() => (proto.sync = original));
  for (const [mode, expected] of [['off', 0], ['normal', 1], ['full', 2], ['extra', 2]] as const) {
    syncs = 0;
    const file = new PositionsFile(join(dir, `${mode}.db`), mode);
    await file.save([entry]);
    assert.equal(syncs, expected, mode);
    assert.deepEqual(file.load(), [entry], mode);
  }
  assert.deepEqual(readdirSync(dir).sort(), ['extra.db', 'full.db', 'normal.db', 'off.db', 'probe'], 'no temporary file left');
});

/**
 * The native snappy binding and snappyjs must produce bodies any snappy block decoder reads back;
 * both are checked against the test receiver's own decompressor, not against each other.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SnappyCompressor } from '../../src/outputs/loki/snappy-compressor.js';
import { snappyUncompress } from '../helpers/loki-receiver.js';
import { waitFor } from '../helpers/wait.js';

function sample(): Buffer {
  const parts: string[] = [];
  for (let i = 0; i < 3000; i++) parts.push(`{"seq":${i},"reason":"BackOff","message":"Back-off restarting failed container ${i % 97}"}`);
  return Buffer.from(parts.join('\n'));
}

test('the native binding is the default where it loads, on its thread and inline, and its output decodes', async () => {
  for (const useWorker of [true, false]) {
    const c = new SnappyCompressor({ useWorker, offloadMinBytes: 1024 });
    // The binding is an optional dependency with prebuilt binaries for linux-x64 (this machine and CI).
    assert.equal(c.implementation, 'native');
    const input = sample();
    const out = await c.compress(input);
    assert.ok(out.byteLength < input.byteLength / 2);
    assert.deepEqual(Buffer.from(snappyUncompress(out)), input);
    await c.close();
  }
});

test('native: false (as FLOKI_SNAPPY=js) uses snappyjs, on its thread and inline', async () => {
  for (const useWorker of [true, false]) {
    const c = new SnappyCompressor({ native: false, useWorker, offloadMinBytes: 1024 });
    assert.equal(c.implementation, 'js');
    const input = sample();
    assert.deepEqual(Buffer.from(snappyUncompress(await c.compress(input))), input);
    await c.close();
  }
});

test('bodies written into shared slots compress on the thread; slots are reused once done, and more bodies than slots still compress', async () => {
  for (const native of [true, false]) {
    const c = new SnappyCompressor({ native, offloadMinBytes: 1024 });
    const bodies = Array.from({ length: 7 }, (_, i) => Buffer.from(sample().toString().replace(/seq/g, `s${i}`)));
    const inputs = bodies.map((b) => {
      const buf = c.allocate(b.length);
      b.copy(buf);
      return buf;
    });
    // Four shared slots at most; the other bodies get plain buffers.
    assert.equal(inputs.filter((b) => b.buffer instanceof SharedArrayBuffer).length, 4);
    const outs = await Promise.all(inputs.map((b) => c.compress(b)));
    assert.deepEqual(outs.map((o) => Buffer.from(snappyUncompress(o)).toString()), bodies.map((b) => b.toString()));
    // Every slot is free again: the next four bodies get the same shared memory back.
    const again = Array.from({ length: 4 }, () => c.allocate(bodies[0]!.length));
    assert.equal(new Set(again.map((b) => b.buffer)).size, 4);
    assert.ok(again.every((b) => inputs.some((i) => i.buffer === b.buffer)));
    for (const b of again) c.release(b);
    // A small body is not given a slot: it is compressed inline.
    assert.ok(!(c.allocate(100).buffer instanceof SharedArrayBuffer));
    await c.close();
  }
});

test('the thread starts at the first body for it, stops after idleStopMs without one, and the next body starts it again', async () => {
  const c = new SnappyCompressor({ offloadMinBytes: 1024, idleStopMs: 50 });
  assert.equal(c.threadRunning, false);
  const body = sample();
  const first = c.allocate(body.length);
  body.copy(first);
  assert.equal(Buffer.from(snappyUncompress(await c.compress(first))).toString(), body.toString());
  assert.equal(c.threadRunning, true);
  await waitFor(() => !c.threadRunning, 'the idle thread to stop', 5000);
  const next = c.allocate(body.length);
  body.copy(next);
  assert.equal(Buffer.from(snappyUncompress(await c.compress(next))).toString(), body.toString());
  assert.equal(c.threadRunning, true);
  await c.close();
});

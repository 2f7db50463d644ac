/**
 * The native snappy binding and snappyjs must produce bodies any snappy block decoder reads back;
 * both are checked against the test receiver's own decompressor, not against each other.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SnappyCompressor } from '../../src/outputs/loki/snappy-compressor.js';
import { snappyUncompress } from '../helpers/loki-receiver.js';

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

/**
 * Property-based (fast-check), over real sockets: whatever one client sends (arbitrary bytes, damaged
 * frames of any mode, hostile times, nesting), a good client on another connection at the same time
 * gets its chunk acked, every event of it emitted as sent, and everything the input emitted can reach
 * Loki. floki stays up. Scale the runs with FUZZ_RUNS (test/helpers/fuzz.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { LogEvent } from '../../src/core/event.js';
import { arr, bin, cat, entry, eventTime, rec, str } from '../helpers/msgpack-wire.js';
import { assertDeliverable, frame, frameBytes, mutation, runs, SOME_SEC } from '../helpers/fuzz.js';
import { RawClient, startServer } from './forward-harness.js';

test('hostile bytes on one connection never cost a good client on another an acked event', { timeout: 120_000 }, async (t) => {
  const h = await startServer(t, { buffer_max_size: 1024 * 1024, 'net.frame_timeout': 2000 });
  let run = 0;
  const hostile = fc.oneof(
    fc.uint8Array({ maxLength: 4096 }).map((b) => Buffer.from(b)),
    fc.tuple(frame, fc.array(mutation, { maxLength: 3 })).map(([f, damage]) => damage.reduce((b, m) => m(b), frameBytes(f))),
  );
  await fc.assert(
    fc.asyncProperty(hostile, fc.boolean(), fc.integer({ min: 1, max: 20 }), async (bytes, closeAfter, records) => {
      const id = `good-${run++}`;
      const bad = await RawClient.connect(t, h.port);
      const good = await RawClient.connect(t, h.port);
      const packed = cat(...Array.from({ length: records }, (_, i) => entry(eventTime(SOME_SEC, i), { id, i })));
      const from = h.events.length;
      // Both at once: the hostile bytes first, so they are in floki when the good chunk is.
      const sending = closeAfter ? new Promise<void>((resolve) => bad.socket.end(bytes, () => resolve())) : bad.write(bytes).catch(() => {});
      await good.write(cat(arr(3), str('good'), bin(packed), rec({ size: records, chunk: id })));
      assert.deepEqual(await good.waitReplies(1, 10_000), [{ ack: id }]);
      await sending;
      const mine = h.events.filter((e) => e.record.id === id);
      assert.deepEqual(mine.map((e) => [e.tag, e.time, e.record.i]), Array.from({ length: records }, (_, i) => ['good', BigInt(SOME_SEC) * 1_000_000_000n + BigInt(i), i]));
      assertDeliverable(h.events.slice(from) as LogEvent[]);
      bad.socket.destroy();
      good.socket.destroy();
    }),
    runs(60),
  );
  assertDeliverable(h.events);
});

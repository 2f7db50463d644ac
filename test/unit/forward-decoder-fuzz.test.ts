/**
 * Property-based tests of the forward decoder (fast-check): arbitrary bytes and damaged frames give
 * events or a ForwardProtocolError, nothing else, quickly, and every event they give can reach Loki;
 * whole frames of every mode and encoding give exactly the events their entries call for. Scale the
 * runs with FUZZ_RUNS (test/helpers/fuzz.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { LogEvent } from '../../src/core/event.js';
import { nowNs } from '../../src/core/event.js';
import { ForwardFrameDecoder, type ForwardFrame } from '../../src/inputs/forward/decoder.js';
import { ForwardProtocolError } from '../../src/forward/protocol-error.js';
import { assertDeliverable, expectation, frame, frameBytes, mutation, runs } from '../helpers/fuzz.js';

/** Slower than this for one input of a few KiB (or one deeply nested) would be a hang in waiting. */
const MAX_MS = 2000;

/** Feeds `bytes` in pieces cut at `cuts`, reading frames after each; stops at the first protocol error. */
function decode(bytes: Buffer, cuts: number[]): { frames: ForwardFrame[]; error?: ForwardProtocolError } {
  const d = new ForwardFrameDecoder({ bufferMaxSize: 1024 * 1024, bufferChunkSize: 4096 });
  const frames: ForwardFrame[] = [];
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  let from = 0;
  try {
    for (const to of [...at, bytes.length]) {
      d.push(bytes.subarray(from, to));
      from = to;
      for (let f = d.next(); f; f = d.next()) frames.push(f);
    }
  } catch (err) {
    if (err instanceof ForwardProtocolError) return { frames, error: err };
    throw err;
  }
  return { frames };
}

function checkSafe(bytes: Buffer, cuts: number[]): void {
  const started = performance.now();
  const { frames } = decode(bytes, cuts);
  const events: LogEvent[] = frames.flatMap((f) => f.events);
  // Records still in their bytes are decoded here, as a filter would: no error may surface this late.
  for (const e of events) assert.equal(typeof e.record, 'object');
  assertDeliverable(events);
  const ms = performance.now() - started;
  assert.ok(ms < MAX_MS, `${bytes.length} bytes took ${ms.toFixed(0)} ms`);
}

const cuts = fc.array(fc.nat(), { maxLength: 4 });

test('arbitrary bytes: events or a ForwardProtocolError, quickly; every event deliverable', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 4096 }), cuts, (bytes, at) => checkSafe(Buffer.from(bytes), at)),
    runs(400),
  );
});

test('arbitrary bytes after a JSON or msgpack frame opening: the same', () => {
  const opening = fc.constantFrom(Buffer.from('["t",'), Buffer.from('[["t",'), Buffer.from([0x93, 0xa1, 0x74]), Buffer.from([0x92, 0xa1, 0x74, 0xc6]));
  fc.assert(
    fc.property(opening, fc.uint8Array({ maxLength: 2048 }), cuts, (start, rest, at) => checkSafe(Buffer.concat([start, rest]), at)),
    runs(300),
  );
});

test('whole frames, every mode and encoding: each entry an event at its time, or refused for its reason; the chunk is there to ack', () => {
  fc.assert(
    fc.property(frame, cuts, (f, at) => {
      const before = nowNs();
      const { frames, error } = decode(frameBytes(f), at);
      assert.equal(error, undefined, error?.message);
      assert.equal(frames.length, 1);
      const got = frames[0]!;
      assert.deepEqual(got.option?.chunk, f.chunk);
      const json = f.mode.startsWith('json');
      const want = f.entries.map((e) => expectation(e, json));
      assert.equal(got.outOfRange, want.filter((w) => w === 'out_of_range').length);
      assert.equal(got.tooDeep, want.filter((w) => w === 'too_deep').length);
      assert.equal(got.skipped, 0);
      const kept = f.entries.filter((_, i) => typeof want[i] === 'bigint' || want[i] === 'now');
      assert.equal(got.events.length, kept.length);
      got.events.forEach((e, i) => {
        const w = want[f.entries.indexOf(kept[i]!)]!;
        if (w === 'now') assert.ok(e.time >= before && e.time <= nowNs());
        else assert.equal(e.time, w);
        assert.deepEqual(e.record, kept[i]!.record);
      });
      assertDeliverable(got.events);
    }),
    runs(300),
  );
});

test('damaged frames (bytes changed, cut, inserted, removed, nesting spliced in): events or a ForwardProtocolError, quickly; every event deliverable', () => {
  fc.assert(
    fc.property(frame, fc.array(mutation, { minLength: 1, maxLength: 3 }), cuts, (f, damage, at) => {
      let bytes = frameBytes(f);
      for (const m of damage) bytes = m(bytes);
      checkSafe(bytes, at);
    }),
    runs(400),
  );
});

test('frames whole or damaged, cut anywhere: the same frames, events and error as in one read', () => {
  // The frame walk resumes across reads (a Forward frame's entries are checked plain as they arrive):
  // where the reads end must change nothing, but how much of an oversized frame was seen before it was
  // refused, and whether that or a bad byte further on is the error (the walk stops at the first).
  const tooLarge = (message: string): boolean => message.includes('larger than buffer_max_size');
  const outcome = (bytes: Buffer, at: number[]): { error: string | undefined; frames: unknown[]; times: unknown[] } => {
    const { frames, error } = decode(bytes, at);
    return {
      error: error?.message,
      frames: frames.map((f) => [f.tag, f.mode, f.bytes, f.option, f.skipped, f.tooDeep, f.outOfRange, f.events.map((e) => [e.tag, e.record, e.metadata])]),
      times: frames.map((f) => f.events.map((e) => (e.time > nowNs() - 60_000_000_000n ? 'now' : e.time))),
    };
  };
  fc.assert(
    fc.property(frame, fc.array(mutation, { maxLength: 2 }), cuts, (f, damage, at) => {
      let bytes = frameBytes(f);
      for (const m of damage) bytes = m(bytes);
      const cut = outcome(bytes, at);
      const whole = outcome(bytes, []);
      if (cut.error !== undefined && whole.error !== undefined && (tooLarge(cut.error) || tooLarge(whole.error))) cut.error = whole.error;
      assert.deepEqual(cut, whole);
    }),
    runs(400),
  );
});

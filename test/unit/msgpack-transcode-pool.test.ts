import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Packr, Unpackr } from 'msgpackr';
import { ForwardFrameDecoder } from '../../src/inputs/forward/decoder.js';
import type { LogEvent } from '../../src/core/event.js';
import { TranscodePool } from '../../src/msgpack/transcode-pool.js';
import { arr, bin, cat, entry, fixext8Time, map, str } from '../helpers/msgpack-wire.js';
import { criLines } from '../helpers/testdata.js';
import { waitFor } from '../helpers/wait.js';

// The reference: msgpackr decodes, JSON.stringify prints.
const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });

/** A PackedForward frame of `records`, decoded by floki's decoder: events that keep their msgpack bytes. */
function packedEvents(records: unknown[]): LogEvent[] {
  const frame = cat(arr(2), str('t'), bin(cat(...records.map((r, i) => entry(fixext8Time(1764064800, i), r)))));
  const d = new ForwardFrameDecoder({ bufferMaxSize: 64 * 1024 * 1024 });
  d.push(frame);
  const f = d.next()!;
  assert.ok(f.events.every((e) => e.msgpack !== undefined));
  return f.events;
}

function exporterRecords(n: number): Record<string, unknown>[] {
  const events = criLines()
    .map((l) => l.content)
    .filter((c) => c.startsWith('{') && c.includes('"involvedObject"'))
    .map((c) => JSON.parse(c) as Record<string, unknown>);
  return Array.from({ length: n }, (_, i) => events[i % events.length]!);
}

const expectedJson = (e: LogEvent): string => JSON.stringify(unpackr.unpack(e.msgpack!.buf.subarray(e.msgpack!.start, e.msgpack!.end)));

test('the thread prints every record as decoding and JSON.stringify would; a record it declines is left unprinted', async () => {
  const pool = new TranscodePool();
  const records: unknown[] = exporterRecords(1000);
  records[3] = { message: 'ünïcødé ✓ and "quotes"\n', n: -1.5 };
  records[500] = { blob: Buffer.from([1, 2]) }; // bin: only a real decode prints it right
  const events = packedEvents(records);
  assert.equal(await pool.prepare(events), 999);
  events.forEach((e, i) => {
    if (i === 500) assert.equal(e.msgpack!.json, undefined);
    else assert.equal(e.msgpack!.json, expectedJson(e), `record ${i}`);
  });
  // Reading the record builds it, and then its printed JSON is no longer offered.
  assert.deepEqual(events[3]!.record, records[3]);
  assert.equal(events[3]!.msgpack, undefined);
  await pool.close();
});

test('small chunks, chunks bigger than a slot, and chunks while every slot is busy stay on the main thread', async () => {
  const pool = new TranscodePool({ slots: 1, slotBytes: 64 * 1024, minRecords: 16 });
  assert.equal(pool.prepare(packedEvents(exporterRecords(15))), undefined, 'fewer than minRecords');
  assert.equal(pool.prepare(packedEvents(exporterRecords(200))), undefined, 'more bytes than a slot');
  const first = packedEvents(exporterRecords(20));
  const busy = pool.prepare(first);
  assert.ok(busy);
  assert.equal(pool.prepare(packedEvents(exporterRecords(20))), undefined, 'the only slot is busy');
  assert.equal(await busy, 20);
  const again = packedEvents(exporterRecords(20));
  assert.equal(await pool.prepare(again), 20, 'the slot is free again');
  assert.ok(again.every((e) => e.msgpack!.json === expectedJson(e)));
  await pool.close();
  assert.equal(pool.prepare(packedEvents(exporterRecords(20))), undefined, 'closed');
});

test('records whose text does not fit the shared output are left to the main thread; the others are printed', async () => {
  // Control characters print as \u00XX: six times their bytes, far more than the output's room.
  const pool = new TranscodePool({ slotBytes: 16 * 1024, minRecords: 1 });
  const records = [{ a: 'x'.repeat(1000) }, { b: '\u0001'.repeat(9000) }, { c: 'y' }];
  const events = packedEvents(records);
  assert.equal(await pool.prepare(events), 2);
  assert.deepEqual(events.map((e) => e.msgpack!.json), [JSON.stringify(records[0]), undefined, JSON.stringify(records[2])]);
  await pool.close();
});

test('when the shared output fills up mid-chunk, the texts that no longer fit are declined and printed on the main thread, those that still fit are printed', async () => {
  const { LineFormatter } = await import('../../src/labels/line-formatter.js');
  const formatter = new LineFormatter({ format: 'json', dropSingleKey: 'off', removePaths: [] });
  // An output of 24 KiB; 40 texts of ~610 bytes (control characters print as \u00XX) and 40 of 9.
  const pool = new TranscodePool({ slotBytes: 16 * 1024, minRecords: 1 });
  const records = Array.from({ length: 80 }, (_, i) => (i % 2 === 0 ? { b: '\u0001'.repeat(100), i } : { c: 'y' }));
  const events = packedEvents(records);
  const printed = await pool.prepare(events);
  const declined = events.flatMap((e, i) => (e.msgpack!.json === undefined ? [i] : []));
  assert.ok(declined.length > 0 && declined.every((i) => i % 2 === 0), `only long texts declined: ${declined.join(',')}`);
  assert.ok(events.slice(declined[0]).some((e) => e.msgpack!.json !== undefined), 'a short text after the first declined one still fits');
  assert.equal(printed, 80 - declined.length);
  events.forEach((e, i) => {
    if (e.msgpack!.json !== undefined) assert.equal(e.msgpack!.json, JSON.stringify(records[i]), `record ${i}`);
    assert.equal(formatter.lineFor(e), JSON.stringify(records[i]), `line ${i}`);
  });
  await pool.close();
});

test('the Loki line of a record is the same whether the thread printed it or not (a repeated key included)', async () => {
  const { LineFormatter } = await import('../../src/labels/line-formatter.js');
  const formatter = new LineFormatter({ format: 'json', dropSingleKey: 'off', removePaths: [] });
  const repeated = cat(map(2), str('log'), str('first'), str('log'), str('second'));
  const frameOf = (n: number): LogEvent[] => {
    const d = new ForwardFrameDecoder({ bufferMaxSize: 1 << 20 });
    d.push(cat(arr(2), str('t'), bin(cat(...Array.from({ length: n }, (_, i) => cat(arr(2), fixext8Time(1764064800, i), repeated))))));
    return d.next()!.events;
  };
  const pool = new TranscodePool({ minRecords: 16 });
  const small = frameOf(15);
  assert.equal(pool.prepare(small), undefined, 'too small for the thread');
  const big = frameOf(16);
  assert.equal(await pool.prepare(big), 16);
  const lines = new Set([...small, ...big].map((e) => formatter.lineFor(e)));
  assert.deepEqual([...lines], ['{"log":"first","log":"second"}']);
  await pool.close();
});

test('the thread starts at the first chunk, stops after idleStopMs without one, and the next chunk starts it again', async () => {
  const pool = new TranscodePool({ idleStopMs: 50 });
  assert.equal(pool.threadRunning, false);
  const first = packedEvents(exporterRecords(100));
  assert.equal(await pool.prepare(first), 100);
  assert.equal(pool.threadRunning, true);
  await waitFor(() => !pool.threadRunning, 'the idle thread to stop', 5000);
  const next = packedEvents(exporterRecords(100));
  assert.equal(await pool.prepare(next), 100);
  next.forEach((e, i) => assert.equal(e.msgpack!.json, expectedJson(e), `record ${i}`));
  await pool.close();
});

test("the thread captures the exporter's label fields as it prints: the same values share one array", async () => {
  const pool = new TranscodePool();
  const records: Record<string, unknown>[] = exporterRecords(40).map((r) => ({ ...r }));
  records[1] = { log: 'not an event' };
  records[2] = { type: 'Normal', reason: 'x'.repeat(5000), involvedObject: { kind: 'Pod' } }; // too long to keep: left to the filter
  records[3] = { type: 'Warning', reason: 'BackOff', involvedObject: { kind: 'Pod', namespace: 7 } };
  records[30] = records[4]!;
  const events = packedEvents(records);
  assert.equal(await pool.prepare(events), 40);
  const fieldsOf = (e: LogEvent): unknown => (e as unknown as { printedFields: unknown }).printedFields;
  const expected = (r: Record<string, unknown>): (string | undefined)[] => {
    const io = r.involvedObject as Record<string, unknown> | undefined;
    const s = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
    return [s(r.type), s(r.reason), s(io?.kind), s(io?.namespace)];
  };
  events.forEach((e, i) => {
    if (i === 2) assert.equal(fieldsOf(e), undefined);
    else assert.deepEqual(fieldsOf(e), expected(records[i]!), `record ${i}`);
  });
  const byValues = new Map<string, unknown>();
  events.forEach((e, i) => {
    if (i === 2) return;
    const key = JSON.stringify(expected(records[i]!));
    if (!byValues.has(key)) byValues.set(key, fieldsOf(e));
    assert.equal(fieldsOf(e), byValues.get(key), `one array per distinct values (record ${i})`);
  });
  // The next job reuses the numbering: the values come back as the same arrays.
  const again = packedEvents(records);
  assert.equal(await pool.prepare(again), 40);
  again.forEach((e, i) => assert.equal(fieldsOf(e), fieldsOf(events[i]!)));
  await pool.close();
});

test('past the bound on numbered values the thread numbers them afresh, and every record still gets its own values', async () => {
  const pool = new TranscodePool();
  const fieldsOf = (e: LogEvent): unknown => (e as unknown as { printedFields: unknown }).printedFields;
  // 300 distinct sets of about 4,000 characters: over the thread's 1M, so its next job starts over.
  const batch = (from: number): Record<string, unknown>[] =>
    Array.from({ length: 300 }, (_, i) => ({ type: 'Normal', reason: `${from + i}`.padEnd(4000, 'r'), involvedObject: { kind: 'Pod', namespace: `ns${i % 7}` } }));
  for (const from of [0, 1000, 0]) {
    const records = batch(from);
    const events = packedEvents(records);
    assert.equal(await pool.prepare(events), records.length);
    events.forEach((e, i) => assert.deepEqual(fieldsOf(e), ['Normal', records[i]!.reason, 'Pod', `ns${i % 7}`], `record ${from + i}`));
  }
  await pool.close();
});

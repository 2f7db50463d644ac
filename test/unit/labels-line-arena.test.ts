/**
 * LineFormatter.writeLine writes a line's UTF-8 bytes into a LineArena (W2, issue #12): they must be
 * the bytes of the line lineFor makes, which is the general way's text (JSON.stringify of the pruned
 * record), and an encoder body made from such entries (ArenaLine) must be
 * byte for byte the body made from the lines as strings.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { LogEvent } from '../../src/core/event.js';
import { LineArena } from '../../src/labels/line-arena.js';
import { LineFormatter } from '../../src/labels/line-formatter.js';
import { REMOVE, REMOVE_SETS, formatter, general, sharedMapRecords } from '../helpers/line-formatter.js';
import { freezeShared } from '../../src/labels/shared-map.js';
import { ArenaLine, PushRequestEncoder, type LokiEntry } from '../../src/outputs/loki/encoder.js';

const kube = () => ({
  pod_name: 'web-1',
  namespace_name: 'shop',
  labels: { app: 'web', tier: 'front' },
  host: 'nœud-1 ☃',
  container_name: 'web',
  container_id: 'a'.repeat(64),
  list: [1, 'two', { three: 3 }],
});

const event = (record: Record<string, unknown>, time = 1_700_000_000_000_000_000n): LogEvent => ({ tag: 't', time, record });

/** writeLine's bytes, or undefined when it left the line to lineFor (and then wrote nothing). */
function written(f: LineFormatter, arena: LineArena, e: LogEvent): Buffer | undefined {
  const before = arena.pos;
  const chunk = arena.chunk;
  const n = f.writeLine(e, arena);
  if (n < 0) {
    assert.ok(arena.chunk !== chunk || arena.pos === before, 'nothing written');
    return undefined;
  }
  assert.equal(arena.pos - arena.start, n);
  return Buffer.from(arena.chunk.subarray(arena.start, arena.start + n));
}

test('writeLine writes the bytes of the line lineFor makes, or leaves the record to it', () => {
  const shared = freezeShared(kube());
  const records: Record<string, unknown>[] = [
    ...sharedMapRecords(shared, kube),
    { stream: 'stdout', log: 'plain ascii with DEL \u007f', kubernetes: shared },
    { stream: 'stdout', log: 'café 日本語 🚀 "q"', kubernetes: shared },
    { stream: 'stdout', log: 'tab\there\nnew line \u0000 lone \ud800', kubernetes: shared },
    { big: 12345678901234567890n, kubernetes: shared },
    { long: 'x'.repeat(20_000), kubernetes: shared },
  ];
  for (const remove of REMOVE_SETS) {
    const f = formatter(remove);
    const arena = new LineArena(256);
    let wrote = 0;
    for (const record of records) {
      for (let i = 0; i < 2; i++) {
        const bytes = written(f, arena, event(record));
        const line = f.lineFor(event(record));
        if (bytes === undefined) continue;
        wrote++;
        assert.equal(bytes.toString('utf8'), line, `${JSON.stringify(remove)} ${line}`);
        assert.equal(line, general(record, remove));
        assert.deepEqual(bytes, Buffer.from(line, 'utf8'));
      }
    }
    assert.ok(wrote >= 8, `${wrote} lines written`);
  }
});

test('writeLine leaves to lineFor what it must: a line a filter set, a msgpack record, key_value, drop_single_key', () => {
  const shared = freezeShared(kube());
  const arena = new LineArena();
  assert.equal(formatter([]).writeLine({ ...event({ log: 'x', kubernetes: shared }), line: 'set' }, arena), -1);
  assert.equal(new LineFormatter({ format: 'key_value', dropSingleKey: 'off', removePaths: [] }).writeLine(event({ log: 'x', kubernetes: shared }), arena), -1);
  assert.equal(new LineFormatter({ format: 'json', dropSingleKey: 'on', removePaths: [] }).writeLine(event({ log: 'x', kubernetes: shared }), arena), -1);
  assert.equal(arena.pos, 0);
});

test('a tail record with any text: writeLine writes the bytes of the line lineFor makes, across chunks', () => {
  const shared = freezeShared(kube());
  const unit = fc.oneof(
    fc.constantFrom('"', '\\', 'a', ' ', 'é', '日', '\n', '\t', '\u0000', '\u007f', '\u0080', '\u00ff', '\ud800', '\udc00', '\ud83d', '\ude80'),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  );
  for (const remove of [REMOVE, []]) {
    const f = formatter(remove);
    // Small chunks: lines often move to a new one part written.
    const arena = new LineArena(200);
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 120 }), fc.string({ unit, maxLength: 8 }), fc.oneof(fc.string({ unit, maxLength: 8 }), fc.integer(), fc.double(), fc.boolean()), (log, stream, extra) => {
        for (const record of [{ stream, log, kubernetes: shared }, { [stream]: extra, log, kubernetes: shared }]) {
          const bytes = written(f, arena, event(record));
          assert.ok(bytes !== undefined);
          assert.deepEqual(bytes, Buffer.from(f.lineFor(event(record)), 'utf8'));
          assert.deepEqual(bytes, Buffer.from(general(record, remove), 'utf8'));
        }
      }),
      { numRuns: 3000 },
    );
  }
});

test('an encoder body from ArenaLine entries is byte for byte the body from the lines as strings', () => {
  const f = formatter(REMOVE);
  const arena = new LineArena(4096);
  const encoder = new PushRequestEncoder();
  fc.assert(
    fc.property(
      fc.array(fc.record({ stream: fc.integer({ min: 0, max: 3 }), log: fc.string({ unit: 'grapheme', maxLength: 300 }), dt: fc.integer({ min: -5, max: 1000 }), sm: fc.boolean() }), { maxLength: 40 }),
      (items) => {
        const maps = [0, 1, 2, 3].map((i) => freezeShared({ ...kube(), pod_name: `web-${i}` }));
        const asBytes = new Map<string, LokiEntry[]>();
        const asStrings = new Map<string, LokiEntry[]>();
        let ts = 1_700_000_000_000_000_000n;
        for (const it of items) {
          ts += BigInt(it.dt) * 1000n;
          const e = event({ stream: 'stdout', log: it.log, kubernetes: maps[it.stream]! }, ts);
          const n = f.writeLine(e, arena);
          assert.ok(n >= 0);
          const sm = it.sm ? { trace: 'x' } : undefined;
          const labels = `{pod="web-${it.stream}"}`;
          const entry = new ArenaLine(ts, arena.chunk, arena.start, n, sm);
          const line = f.lineFor(e);
          assert.equal(entry.line, line);
          if (!asBytes.has(labels)) {
            asBytes.set(labels, []);
            asStrings.set(labels, []);
          }
          asBytes.get(labels)!.push(entry);
          asStrings.get(labels)!.push({ ts, line, sm });
        }
        assert.deepEqual(encoder.encode(asBytes), encoder.encode(asStrings));
      },
    ),
    { numRuns: 300 },
  );
});

test('LineArena: a line that outgrows its chunk moves, whole, to a new one; earlier lines stay where they were', () => {
  const arena = new LineArena(16);
  arena.begin();
  arena.latin1('0123456789');
  const first = arena.chunk;
  arena.begin();
  arena.latin1('abcd');
  arena.utf8('é日');
  assert.notEqual(arena.chunk, first);
  assert.equal(arena.chunk.subarray(arena.start, arena.pos).toString('utf8'), 'abcdé日');
  assert.equal(first.subarray(0, 10).toString('latin1'), '0123456789');
  arena.begin();
  arena.bytes(Buffer.from(',"k":"v"'), 1);
  assert.equal(arena.chunk.subarray(arena.start, arena.pos).toString(), '"k":"v"');
  arena.rollback();
  assert.equal(arena.pos, arena.start);
  // A line longer than a chunk gets a chunk of its own, which the arena lets go of after it.
  arena.begin();
  arena.latin1('y'.repeat(100));
  const big = arena.chunk;
  assert.ok(big.length >= 100);
  arena.begin();
  assert.notEqual(arena.chunk, big);
  assert.equal(arena.chunk.length, 16);
});

test('records whose keys change places, or are removed at a place an earlier record kept: the same line as the general way', () => {
  const shared = freezeShared(kube());
  const records: Record<string, unknown>[] = [
    { stream: 'stdout', log: 'a', kubernetes: shared },
    { log: 'b', stream: 'stderr', kubernetes: shared },
    { stream: 'stdout', gone: 'removed key', log: 'c', kubernetes: shared },
    { stream: 'stdout', log: 'd', toJSON: 'x', kubernetes: shared },
    { stream: 'stdout', log: 'e', extra: 1, kubernetes: shared },
    { stream: 'stdout', log: 'f', kubernetes: shared },
    { gone: 'first', stream: 'stdout', kubernetes: shared },
    { stream: 'stdout', kubernetes: shared },
    { stream: 'stdout', log: 'g', kubernetes: shared, after: 'shared' },
    { stream: 'stdout', log: 'h', kubernetes: shared },
    { ['k'.repeat(2000)]: 'a key too long to keep', stream: 'stdout', kubernetes: shared },
    { ['k'.repeat(2000)]: 'again', log: 'i', kubernetes: shared },
  ];
  const remove = [...REMOVE, '$gone'];
  const f = formatter(remove);
  const arena = new LineArena(256);
  for (let round = 0; round < 3; round++) {
    for (const record of records) {
      const bytes = written(f, arena, event(record));
      const line = f.lineFor(event(record));
      assert.equal(line, general(record, remove));
      if (bytes !== undefined) assert.equal(bytes.toString('utf8'), line);
      else assert.ok('gone' in record || 'after' in record || 'toJSON' in record, JSON.stringify(record));
    }
  }
});

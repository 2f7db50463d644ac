/**
 * For the property-based (fast-check) tests of the decoders of untrusted input: forward frames of
 * every mode and encoding built from arbitrary records and times (hostile ones included), mutations
 * of their bytes, and the check that an event an input accepted can be delivered to Loki.
 *
 * `FUZZ_RUNS` scales every property's number of runs (default 1: the suite's budget, a few seconds);
 * a longer run: `FUZZ_RUNS=50 node --import tsx --test test/unit/*fuzz*.test.ts test/integration/*fuzz*.test.ts`.
 * A failure prints the seed and path to replay it (fast-check's `seed` and `path` parameters).
 */
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import type { LogEvent } from '../../src/core/event.js';
import { MAX_RECORD_NESTING, nestingExceeds, timeInRange } from '../../src/core/limits.js';
import { LineFormatter } from '../../src/labels/line-formatter.js';
import { PushRequestEncoder, type LokiEntry } from '../../src/outputs/loki/encoder.js';
import { decodeProtobuf } from './loki-receiver.js';
import { arr, bin, cat, eventTime, float64, NIL, str } from './msgpack-wire.js';

const scale = Number(process.env.FUZZ_RUNS ?? '1');
/** fast-check parameters for `base` runs, scaled by FUZZ_RUNS. */
export function runs(base: number): { numRuns: number } {
  return { numRuns: Math.max(1, Math.round(base * (Number.isFinite(scale) && scale > 0 ? scale : 1))) };
}

const packr = new Packr({ useRecords: false });

/** A time as the wire carries it, with what floki must make of it: ns, "now", or refused. */
export interface WireTime {
  bytes: Buffer;
  json: string;
  expect: bigint | 'now' | 'out_of_range';
  /** The same for `json` (an EventTime's nanoseconds have no JSON form). */
  jsonExpect: bigint | 'now' | 'out_of_range';
}

const SEC = 1764064800;
const goodTime: fc.Arbitrary<WireTime> = fc.oneof(
  fc.record({ s: fc.integer({ min: 1, max: 0xffffffff }), n: fc.integer({ min: 0, max: 999_999_999 }) }).map(({ s, n }) => ({
    bytes: eventTime(s, n),
    json: String(s),
    expect: BigInt(s) * 1_000_000_000n + BigInt(n),
    jsonExpect: BigInt(s) * 1_000_000_000n,
  })),
  fc.integer({ min: 1, max: 2 ** 31 }).map((s) => ({ bytes: packr.pack(s), json: String(s), expect: BigInt(s) * 1_000_000_000n, jsonExpect: BigInt(s) * 1_000_000_000n })),
  fc.constant({ bytes: NIL, json: 'null', expect: 'now' as const, jsonExpect: 'now' as const }),
  fc.constant({ bytes: Buffer.from([0x00]), json: '0', expect: 'now' as const, jsonExpect: 'now' as const }),
);
const HOSTILE_SECONDS = [1e300, 2 ** 70, 2 ** 64, 9_223_372_037, Number.MAX_VALUE, NaN, Infinity, -Infinity, -5, -0.5, -1e300];
const hostileTime: fc.Arbitrary<WireTime> = fc.constantFrom(...HOSTILE_SECONDS).map((s) => ({
  bytes: float64(s),
  // JSON has no NaN or Infinity: a number that parses to them, or an ordinary one out of range.
  json: Number.isNaN(s) ? '1e999' : s === Infinity ? '1e400' : s === -Infinity ? '-1e400' : String(s),
  expect: 'out_of_range' as const,
  jsonExpect: 'out_of_range' as const,
}));
export const wireTime: fc.Arbitrary<WireTime> = fc.oneof({ weight: 4, arbitrary: goodTime }, { weight: 1, arbitrary: hostileTime });

/** A map key: any string but `__proto__`, which no decoder keeps as a key. */
const key = fc.string({ maxLength: 12 }).filter((k) => k !== '__proto__');
/** JSON values (numbers finite, so msgpack and JSON agree), a few levels deep. */
const { value } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { maxDepth: 4 },
    fc.string({ maxLength: 20 }),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => !Object.is(x, -0)),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(key, tie('value'), { maxKeys: 4, noNullPrototype: true }),
  ),
}));
/** A record: JSON-like values, sometimes nested past the limit. */
export const record: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  { weight: 6, arbitrary: fc.dictionary(key, value, { maxKeys: 6, noNullPrototype: true }) },
  { weight: 1, arbitrary: fc.integer({ min: MAX_RECORD_NESTING - 2, max: 3000 }).map((levels) => deepRecord(levels)) },
);

/** { a: [ [ … ] ] }: `levels` levels of maps and arrays. */
export function deepRecord(levels: number): Record<string, unknown> {
  let v: unknown = [];
  for (let i = 2; i < levels; i++) v = [v];
  return { a: v };
}

export interface Entry {
  time: WireTime;
  record: Record<string, unknown>;
}

export type Mode = 'message' | 'forward' | 'packed' | 'compressed' | 'json-message' | 'json-forward';
export interface Frame {
  mode: Mode;
  tag: string;
  entries: Entry[];
  chunk: string;
}

export const frame: fc.Arbitrary<Frame> = fc.record({
  mode: fc.constantFrom<Mode>('message', 'forward', 'packed', 'compressed', 'json-message', 'json-forward'),
  tag: fc.string({ minLength: 1, maxLength: 10 }),
  entries: fc.array(fc.record({ time: wireTime, record }), { minLength: 1, maxLength: 5 }),
  chunk: fc.string({ minLength: 1, maxLength: 8 }),
}).map((f) => (f.mode.endsWith('message') ? { ...f, entries: f.entries.slice(0, 1) } : f));

/** A frame's bytes. Records nested past what msgpackr packs (~1000 levels) are written by hand. */
export function frameBytes(f: Frame): Buffer {
  const option = packr.pack({ chunk: f.chunk });
  const entry = (e: Entry): Buffer => cat(arr(2), e.time.bytes, packRecord(e.record));
  switch (f.mode) {
    case 'message':
      return cat(arr(4), str(f.tag), f.entries[0]!.time.bytes, packRecord(f.entries[0]!.record), option);
    case 'forward':
      return cat(arr(3), str(f.tag), arr(f.entries.length), ...f.entries.map(entry), option);
    case 'packed':
      return cat(arr(3), str(f.tag), bin(cat(...f.entries.map(entry))), option);
    case 'compressed':
      return cat(arr(3), str(f.tag), bin(gzipSync(cat(...f.entries.map(entry)))), packr.pack({ chunk: f.chunk, compressed: 'gzip' }));
    case 'json-message':
      return Buffer.from(`[${JSON.stringify(f.tag)},${f.entries[0]!.time.json},${jsonRecord(f.entries[0]!.record)},{"chunk":${JSON.stringify(f.chunk)}}]`);
    case 'json-forward':
      return Buffer.from(`[${JSON.stringify(f.tag)},[${f.entries.map((e) => `[${e.time.json},${jsonRecord(e.record)}]`).join(',')}],{"chunk":${JSON.stringify(f.chunk)}}]`);
  }
}

function levelsOf(record: Record<string, unknown>): number {
  let levels = 1;
  for (let v = record.a; Array.isArray(v); v = v[0]) levels++;
  return levels;
}

function isDeep(record: Record<string, unknown>): boolean {
  return Object.keys(record).length === 1 && Array.isArray(record.a) && levelsOf(record) > 100;
}

function packRecord(record: Record<string, unknown>): Buffer {
  if (!isDeep(record)) return packr.pack(record);
  const levels = levelsOf(record);
  return cat(Buffer.from([0x81, 0xa1, 0x61]), Buffer.alloc(levels - 2, 0x91), Buffer.from([0x90]));
}

function jsonRecord(record: Record<string, unknown>): string {
  if (!isDeep(record)) return JSON.stringify(record);
  const levels = levelsOf(record);
  return '{"a":' + '['.repeat(levels - 1) + ']'.repeat(levels - 1) + '}';
}

/** What the decoder must make of an entry: an event at a time (or "now"), or a refusal by reason. */
export function expectation(e: Entry, json: boolean): bigint | 'now' | 'out_of_range' | 'too_deep' {
  if (nestingExceeds(e.record)) return 'too_deep';
  return json ? e.time.jsonExpect : e.time.expect;
}

/** Byte-level damage to a frame: what a broken or hostile client sends. */
export type Mutation = (bytes: Buffer) => Buffer;
export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }).map(({ at, value }) => (b: Buffer) => {
    const c = Buffer.from(b);
    if (c.length > 0) c[at % c.length] = value;
    return c;
  }),
  fc.nat().map((n) => (b: Buffer) => b.subarray(0, n % (b.length + 1))),
  fc.record({ at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }).map(({ at, bytes }) => (b: Buffer) => {
    const i = at % (b.length + 1);
    return cat(b.subarray(0, i), Buffer.from(bytes), b.subarray(i));
  }),
  fc.record({ at: fc.nat(), n: fc.integer({ min: 1, max: 16 }) }).map(({ at, n }) => (b: Buffer) => {
    const i = at % (b.length + 1);
    return cat(b.subarray(0, i), b.subarray(i + n));
  }),
  fc.record({ at: fc.nat(), n: fc.integer({ min: 1, max: 200_000 }), byte: fc.constantFrom(0x91, 0x81, 0xdc, 0x5b, 0x7b) }).map(({ at, n, byte }) => (b: Buffer) => {
    // Nesting headers (or JSON brackets) spliced in: a walk that recursed would overflow here.
    const i = at % (b.length + 1);
    return cat(b.subarray(0, i), Buffer.alloc(n, byte), b.subarray(i));
  }),
);

export const SOME_SEC = SEC;

const formatter = new LineFormatter({ format: 'json', dropSingleKey: 'off', removePaths: [] });
const encoder = new PushRequestEncoder();

/**
 * Throws unless every event can reach Loki: a time Loki stores, a record within the nesting limit
 * whose line prints, and a PushRequest of them all that an independent protobuf decoder reads back.
 */
export function assertDeliverable(events: readonly LogEvent[]): void {
  const entries: LokiEntry[] = [];
  for (const e of events) {
    if (!timeInRange(e.time)) throw new Error(`event time ${e.time} is outside what Loki stores`);
    if (nestingExceeds(e.record)) throw new Error('event record nested deeper than the limit');
    const line = formatter.lineFor(e);
    if (typeof line !== 'string') throw new Error('no line');
    entries.push({ ts: e.time, line });
  }
  if (entries.length === 0) return;
  const decoded = decodeProtobuf(encoder.encode(new Map([['{job="fuzz"}', entries]])));
  if (decoded.length !== entries.length) throw new Error(`PushRequest decoded to ${decoded.length} entries, not ${entries.length}`);
}

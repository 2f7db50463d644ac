/**
 * The parser filter on a large volume of mixed lines (JSON, nginx, logfmt, plain text, lone
 * surrogates, cut JSON, 70 KiB lines, lines crafted against a backtracking regex), generated on the
 * fly, through floki's engine: memory stays bounded, every record comes out, and another input's
 * records keep flowing with a bounded delay the whole time.
 *
 * `npm test` runs 32 MiB (a few seconds). The full size of issue #15 is a documented command:
 *
 *   FLOKI_PARSER_VOLUME_MIB=1024 node --import tsx --test test/integration/filter-parser-volume.test.ts
 *
 * (77 s on the shared 2-core machine this was written on, the heap 19 MiB over its start at most, the other
 * input's records at most 254 ms apart; each run prints its own figures).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { stringify } from 'yaml';
import { parseConfig, type PluginRegistry } from '../../src/config/load.js';
import { Engine } from '../../src/core/engine.js';
import type { InputContext } from '../../src/core/plugin.js';
import type { AnyPlugin } from '../../src/core/registry-types.js';
import { Metrics } from '../../src/observability/metrics.js';
import { PLUGINS } from '../../src/plugins.js';
import { MIXED_LINE_PARSERS, MixedLines } from '../helpers/mixed-lines.js';
import { waitFor } from '../helpers/wait.js';

const MIB = Number(process.env.FLOKI_PARSER_VOLUME_MIB ?? '32');
const BATCH = 512;
const BEAT_MS = 20;
/** The longest gap allowed between the other input's records: the costliest batch (hostile lines) takes ~0.2 s. */
const MAX_BEAT_GAP_MS = 1500;
/** Heap the run may add over its start: what a batch in flight and the engine's caches take. */
const MAX_HEAP_GROWTH = 64 * 1024 * 1024;

test(`the parser filter on ${MIB} MiB of mixed lines: bounded memory, nothing lost, other inputs never blocked`, async (t) => {
  let load: InputContext | undefined;
  let beat: InputContext | undefined;
  let loadRecords = 0;
  let parsed = 0;
  let beats = 0;
  /** The longest time between two of the other input's records reaching the output (it emits every BEAT_MS). */
  let maxBeatGapMs = 0;
  let lastBeat: number | undefined;
  const input = (name: string, set: (ctx: InputContext) => void): AnyPlugin => ({
    kind: 'input',
    name,
    description: 'test input',
    options: [],
    create: (_o, ctx) => {
      set(ctx);
      return { start: async () => {}, stop: async () => {}, pause() {}, resume() {} };
    },
  });
  const count: AnyPlugin = {
    kind: 'output',
    name: 'count',
    description: 'counts and settles at once',
    options: [],
    create: () => ({
      start: async () => {},
      stop: async () => {},
      queuedBytes: () => 0,
      write: (events, delivery) => {
        const now = performance.now();
        for (const e of events) {
          if (e.tag === 'beat') {
            beats++;
            if (lastBeat !== undefined) maxBeatGapMs = Math.max(maxBeatGapMs, now - lastBeat);
            lastBeat = now;
          } else {
            loadRecords++;
            if (!Object.hasOwn(e.record, 'log')) parsed++;
          }
        }
        delivery?.settle(events.length);
      },
    }),
  };
  const registry: PluginRegistry = new Map<string, AnyPlugin>([...PLUGINS, ['load', input('load', (c) => (load = c))], ['beat', input('beat', (c) => (beat = c))], ['count', count]]);
  const config = stringify({
    parsers: MIXED_LINE_PARSERS,
    pipeline: {
      inputs: [{ name: 'load' }, { name: 'beat' }],
      filters: [{ name: 'parser', match: 'load', key_name: 'log', parser: MIXED_LINE_PARSERS.map((p) => p.name) }],
      outputs: [{ name: 'count', match: '*' }],
    },
  });
  const metrics = new Metrics();
  const engine = new Engine(parseConfig(config, 'floki.yaml', registry, {}), pino({ level: 'silent' }), metrics);
  await engine.start();
  t.after(() => engine.stop(100));

  global.gc?.();
  const heapStart = process.memoryUsage().heapUsed;
  let heapMax = heapStart;
  const timer = setInterval(() => {
    heapMax = Math.max(heapMax, process.memoryUsage().heapUsed);
    void beat!.emit([{ tag: 'beat', time: BigInt(Date.now()) * 1_000_000n, record: { beat: true } }]);
  }, BEAT_MS);
  t.after(() => clearInterval(timer));

  const lines = new MixedLines(7);
  const target = MIB * 1024 * 1024;
  let generated = 0;
  const started = performance.now();
  let time = 1_800_000_000_000_000_000n;
  while (lines.bytes < target) {
    await load!.emit(lines.batch('load', BATCH, time));
    generated += BATCH;
    time += BigInt(BATCH);
    // An input yields between reads, as the tail and forward inputs do on their I/O.
    await new Promise((r) => setImmediate(r));
  }
  const seconds = (performance.now() - started) / 1000;
  await waitFor(() => loadRecords === generated, 'every record out');
  const heapGrowth = heapMax - heapStart;
  const unmatched = await metrics.value('floki_filter_parser_unparsed_records_total', { reason: 'no_match' });
  t.diagnostic(
    `${MIB} MiB, ${generated} records in ${seconds.toFixed(1)} s (${(MIB / seconds).toFixed(1)} MiB/s); heap +${(heapGrowth / 1048576).toFixed(0)} MiB at most; ` +
      `${beats} beats, at most ${maxBeatGapMs.toFixed(0)} ms apart; ${parsed} parsed, ${unmatched} unmatched`,
  );
  assert.equal(parsed + unmatched, generated, 'each record parsed or counted as unmatched');
  assert.ok(parsed > generated * 0.9, 'most lines parsed');
  assert.ok(beats >= Math.floor((seconds * 1000) / BEAT_MS / 4), `the other input's records kept coming (${beats})`);
  assert.ok(maxBeatGapMs < MAX_BEAT_GAP_MS, `another input's records were ${maxBeatGapMs.toFixed(0)} ms apart`);
  assert.ok(heapGrowth < MAX_HEAP_GROWTH, `the heap grew by ${(heapGrowth / 1048576).toFixed(0)} MiB`);
});

// Input drivers: how a workload's events reach the process under test. `prepare` runs once per workload,
// before any run; `beforeSpawn` (optional) before the process starts; `connect` once it is ready, and
// returns `send` (timed) and `close`. `timedFrom` says where a run's clock and CPU count start:
// 'send' (the first byte sent; the process's start-up is not counted) or 'spawn' (the process is
// started with its input already there, as a node agent restarting on a backlog; start-up counts).

import { join } from 'node:path';
import { ForwardLoad, encodeChunks } from './forward-load.js';
import { linkTailFiles, prepareTailFiles } from './tail-load.js';

const MiB = 1024 * 1024;

export function envNumber(name, fallback) {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, not '${v}'`);
  return n;
}

export function makeDrivers({ dataDir }) {
  return {
    // Pre-encoded forward messages over TCP (bench/lib/forward-load.js).
    forward: {
      prepare(w) {
        const f = w.forward;
        return encodeChunks({ events: w.events, chunkSize: f.chunkSize, mode: f.mode, ack: f.ack, shape: f.shape });
      },
      timedFrom: () => 'send',
      async connect(w, prepared, ctx) {
        const f = w.forward;
        const load = new ForwardLoad({ port: ctx.inputPort, connections: f.connections, ack: f.ack, window: f.window });
        await load.connect();
        return {
          send: () => load.send(prepared.messages),
          close: () => load.close(),
        };
      },
    },
    // CRI files written once into bench/.data/ (bench/lib/tail-load.js), made to appear in
    // <run dir>/containers as kubelet's symlinks: when the timed run starts, or (`present: true`)
    // before the process starts, so that read_from_head reads them.
    tail: {
      prepare(w) {
        const mib = envNumber('BENCH_TAIL_MIB', w.tail.totalBytes / MiB);
        return prepareTailFiles({ dataDir, files: w.tail.files, totalBytes: Math.round(mib * MiB), profile: w.tail.profile });
      },
      timedFrom: (w) => (w.tail.present ? 'spawn' : 'send'),
      beforeSpawn(w, prepared, ctx) {
        if (w.tail.present) linkTailFiles(prepared, join(ctx.dir, 'containers'));
      },
      async connect(w, prepared, ctx) {
        return {
          send: async () => {
            if (!w.tail.present) linkTailFiles(prepared, join(ctx.dir, 'containers'));
          },
          close: () => {},
        };
      },
    },
    // Nothing is sent: the idle workload.
    none: {
      prepare: () => ({ events: 0, bytes: 0 }),
      timedFrom: () => 'send',
      connect: async () => ({ send: async () => {}, close: () => {} }),
    },
  };
}

/**
 * Rotation while a writer appends at a steady rate, on a node's symlinked layout
 * (/var/log/containers → /var/log/pods) built under a temporary folder: kubelet's rename-and-create
 * (with lines written late to the renamed file, then gzipped), copytruncate, delete and recreate, and a
 * new pod's file appearing. Every line reaches a decoding Loki receiver exactly once, in order.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs, { closeSync, copyFileSync, openSync, readFileSync, renameSync, rmSync, truncateSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import fsp from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { LokiReceiver, type ReceivedEntry } from '../helpers/loki-receiver.js';
import { criLine, nodeLayout, startPipeline, T0, tempDir, type Pipeline } from '../helpers/tail-harness.js';
import { waitFor } from '../helpers/wait.js';

/** Appends numbered CRI lines to a file through an open descriptor, as a container runtime does. */
class Writer {
  seq = 0;
  private fd: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly path: string,
    private readonly name: string,
  ) {
    this.fd = openSync(path, 'a');
  }

  write(n: number): void {
    writeSync(this.fd, this.lines(n));
  }

  /** The next `n` lines, numbered but not written. */
  lines(n: number): Buffer {
    const lines: Buffer[] = [];
    for (let i = 0; i < n; i++, this.seq++) {
      const stream = this.seq % 7 === 0 ? 'stderr' : 'stdout';
      lines.push(criLine(T0 + BigInt(this.seq) * 1000n, stream, 'F', `${this.name} seq=${this.seq} ${'.'.repeat(this.seq % 50)}`));
    }
    return Buffer.concat(lines);
  }

  /** A steady rate: `n` lines every `everyMs`. */
  start(n = 5, everyMs = 5): void {
    this.timer = setInterval(() => this.write(n), everyMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** kubelet: rename away, a few lines still land in the renamed file, then the runtime reopens. */
  /** The seq of the first line after each rotation: for the message of a failure. */
  readonly rotatedAt: number[] = [];

  renameAndCreate(rotated: string, late = 3): void {
    this.rotatedAt.push(this.seq);
    renameSync(this.path, rotated);
    this.write(late);
    this.reopen();
  }

  reopen(): void {
    closeSync(this.fd);
    this.fd = openSync(this.path, 'a');
  }

  close(): void {
    this.stop();
    closeSync(this.fd);
  }
}

const CONFIG = (root: string, port: number, extra = '') => `service:
  grace: 1s
pipeline:
  inputs:
    - name: tail
      path: ${root}/var/log/containers/*.log
      read_from_head: true
      tag: kube.*
      multiline.parser: cri
      rotate_wait: 300ms
      refresh_interval: 1s
      db: ${root}/tail.db
${extra}  outputs:
    - name: loki
      match: '*'
      port: ${port}
      batch_wait: 50ms
      labels: job=floki, pod=$kubernetes['pod_name'], stream=$stream
`;

interface Setup {
  root: string;
  loki: LokiReceiver;
  start(extra?: string): Promise<Pipeline>;
  seqs(pod: string): number[];
}

async function setup(t: TestContext): Promise<Setup> {
  const root = tempDir(t);
  const loki = await LokiReceiver.start();
  let pipeline: Pipeline | undefined;
  // floki stops first, so that it is not left retrying against a closed receiver.
  t.after(async () => {
    await pipeline?.stop();
    await loki.close();
  });
  return {
    root,
    loki,
    start: async (extra = '') => (pipeline = await startPipeline(t, CONFIG(root, loki.port, extra))),
    seqs: (pod) => loki.entries.filter((e) => e.labels.pod === pod).map(seqOf),
  };
}

const seqOf = (e: ReceivedEntry): number => Number(/seq=(\d+)/.exec(JSON.parse(e.line).log as string)![1]);
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Every line once, and within each Loki stream in the order written. */
function assertExactlyOnceInOrder(loki: LokiReceiver, pod: string, written: number): void {
  const got = loki.entries.filter((e) => e.labels.pod === pod);
  assert.deepEqual([...got.map(seqOf)].sort((a, b) => a - b), range(written), `${pod}: every line exactly once`);
  const streams = new Map<string, number[]>();
  for (const e of got) streams.set(e.labelString, [...(streams.get(e.labelString) ?? []), seqOf(e)]);
  for (const [labels, s] of streams) assert.deepEqual(s, [...s].sort((a, b) => a - b), `order within ${labels}`);
  for (const e of got) assert.equal(e.ts, T0 + BigInt(seqOf(e)) * 1000n, 'the line keeps its own time');
}

/** web-0's file on the node layout, with a writer that has written its first `lines` lines. */
function webFile(t: TestContext, s: Setup, lines: number): { target: string; w: Writer } {
  const web = nodeLayout(s.root, 'web-0', 'shop', 'nginx');
  writeFileSync(web.target, '');
  const w = new Writer(web.target, 'web');
  t.after(() => w.close());
  w.write(lines);
  return { target: web.target, w };
}

/** Replaces a function of a built-in module (seen through ES imports too) until the test ends. */
function replaceBuiltin<M extends object, K extends keyof M>(t: TestContext, module: M, key: K, by: (original: M[K]) => M[K]): void {
  const original = module[key];
  module[key] = by(original);
  syncBuiltinESMExports();
  t.after(() => {
    module[key] = original;
    syncBuiltinESMExports();
  });
}

/** Two rotations in one turn of the event loop: floki cannot see the second file while it is at the path. */
async function twoRotationsBeforeFlokiLooks(t: TestContext): Promise<void> {
  const s = await setup(t);
  const { target, w } = webFile(t, s, 20);
  const p = await s.start();
  await waitFor(() => s.seqs('web-0').length >= 20, 'the first lines');
  w.renameAndCreate(`${target}.20261125-100001`);
  w.write(30);
  w.renameAndCreate(`${target}.20261125-100002`);
  w.write(30);
  await waitFor(() => s.seqs('web-0').length >= w.seq, 'every line', 30_000);
  assertExactlyOnceInOrder(s.loki, 'web-0', w.seq);
  assert.equal(await p.metric('floki_input_tail_files_rotated_total'), 2, 'both rotations counted');
}

test('two rotations before floki looks: the file in between, never followed, is read from its start, in order', (t) => twoRotationsBeforeFlokiLooks(t));

test('two rotations before floki looks, and listing the folder is slow: the new file still waits for the one in between', async (t) => {
  // floki lists the folder to find the file in between once it has opened the new one: while the
  // listing takes its time, the new file must not be read.
  replaceBuiltin(t, fsp, 'readdir', (readdir) =>
    (async (...args: Parameters<typeof readdir>) => {
      await new Promise((r) => setTimeout(r, 300));
      return readdir(...args);
    }) as typeof readdir,
  );
  await twoRotationsBeforeFlokiLooks(t);
});

test('lines written late to the renamed file while floki looks at the path come before the new file', async (t) => {
  // The window: floki has looked at the followed file (no growth) and now asks what is at its path. The
  // late lines land in between; the file must be read once more, after the rotation was seen, before
  // the new file at the path is read.
  const s = await setup(t);
  const { target, w } = webFile(t, s, 20);
  await s.start('      inotify_watcher: off\n');
  await waitFor(() => s.seqs('web-0').length >= 20, 'the first lines');
  const rotated = `${target}.20261125-100001`;
  renameSync(target, rotated);
  const late = w.lines(3);
  w.reopen();
  w.write(30);
  let wrote = false;
  replaceBuiltin(t, fs, 'stat', (stat) =>
    ((...args: unknown[]) => {
      if (!wrote) {
        wrote = true;
        writeFileSync(rotated, late, { flag: 'a' });
      }
      return (stat as (...a: unknown[]) => void)(...args);
    }) as typeof stat,
  );
  await waitFor(() => s.seqs('web-0').length >= w.seq, 'every line', 30_000);
  assert.ok(wrote, 'floki looked at the path');
  assertExactlyOnceInOrder(s.loki, 'web-0', w.seq);
});

test("kubelet rotation (rename, create, late lines, gzip) and a new pod's file, while writing steadily", async (t) => {
  const s = await setup(t);
  const web = nodeLayout(s.root, 'web-0', 'shop', 'nginx');
  writeFileSync(web.target, '');
  const w = new Writer(web.target, 'web');
  t.after(() => w.close());
  w.write(50);
  const p = await s.start();
  w.start();
  for (let r = 1; r <= 3; r++) {
    // On a busy machine the next rotation may come before floki saw this file at all: it is read anyway.
    const before = w.seq;
    await waitFor(() => s.seqs('web-0').length >= before, `lines before rotation ${r}`, 5000);
    const rotated = `${web.target}.20261125-10000${r}`;
    w.renameAndCreate(rotated);
    if (r > 1) {
      // kubelet compresses the older rotation once a newer one exists.
      const older = `${web.target}.20261125-10000${r - 1}`;
      await waitFor(async () => (await p.metric('floki_input_tail_files_closed_total')) >= r - 1, 'the older rotation finished', 5000);
      writeFileSync(`${older}.gz`, gzipSync(readFileSync(older)));
      rmSync(older);
    }
  }
  // A new pod starts: its file is found without a restart.
  const api = nodeLayout(s.root, 'api-1', 'shop', 'app', 'd'.repeat(64));
  writeFileSync(api.target, '');
  const w2 = new Writer(api.target, 'api');
  t.after(() => w2.close());
  w2.start();
  await waitFor(() => s.seqs('api-1').length > 20, 'the new pod', 5000);
  w.stop();
  w2.stop();
  await waitFor(() => s.seqs('web-0').length >= w.seq && s.seqs('api-1').length >= w2.seq, 'every line', 30_000).catch(async (err) => {
    const missing = (pod: string, n: number) => { const got = new Set(s.seqs(pod)); return range(n).filter((i) => !got.has(i)); };
    const m = async (name: string) => p.metric(name).catch(() => NaN);
    throw new Error(`${(err as Error).message}: web-0 lacks ${JSON.stringify(missing('web-0', w.seq).slice(0, 50))} of ${w.seq} (rotations at ${JSON.stringify(w.rotatedAt)}), api-1 lacks ${JSON.stringify(missing('api-1', w2.seq).slice(0, 50))} of ${w2.seq}; files closed ${await m('floki_input_tail_files_closed_total')}, rotated ${await m('floki_input_tail_files_rotated_total')}, open ${await m('floki_input_tail_files_open')}`);
  });
  await waitFor(async () => (await p.metric('floki_input_tail_files_closed_total')) === 3, 'rotated files closed after rotate_wait', 5000);
  assertExactlyOnceInOrder(s.loki, 'web-0', w.seq);
  assertExactlyOnceInOrder(s.loki, 'api-1', w2.seq);
  assert.equal(await p.metric('floki_input_tail_files_rotated_total'), 3);
  assert.equal(await p.metric('floki_input_tail_files_open'), 2);
});

test('copytruncate: the file shrinks and is read again from its start', async (t) => {
  const s = await setup(t);
  const web = nodeLayout(s.root, 'web-0', 'shop', 'nginx');
  writeFileSync(web.target, '');
  const w = new Writer(web.target, 'web');
  t.after(() => w.close());
  w.write(50);
  const p = await s.start('      inotify_watcher: off\n');
  w.start();
  for (let r = 1; r <= 2; r++) {
    await waitFor(() => w.seq > r * 300, 'lines written', 5000);
    // Lines written between the last read and the truncation exist only in the copy: with copytruncate
    // any tailer loses them. The writer waits for floki to catch up, as the test wants every line.
    w.stop();
    await waitFor(() => s.seqs('web-0').length >= w.seq, 'caught up', 5000);
    copyFileSync(web.target, `${web.target}.${r}`);
    truncateSync(web.target, 0);
    w.start();
  }
  await waitFor(async () => (await p.metric('floki_input_tail_files_truncated_total')) === 2, 'both truncations noticed', 5000);
  await waitFor(() => w.seq > 800, 'more lines', 5000);
  w.stop();
  await waitFor(() => s.seqs('web-0').length >= w.seq, 'every line', 30_000);
  assertExactlyOnceInOrder(s.loki, 'web-0', w.seq);
});

test('a deleted file is finished and closed; the file created at its path is read from its start', async (t) => {
  const s = await setup(t);
  const web = nodeLayout(s.root, 'web-0', 'shop', 'nginx');
  writeFileSync(web.target, '');
  const w = new Writer(web.target, 'web');
  t.after(() => w.close());
  w.write(50);
  const p = await s.start();
  w.start();
  await waitFor(() => w.seq > 300, 'lines written', 5000);
  // Deleted with lines floki has not read yet (written just before): they are still read.
  w.write(200);
  unlinkSync(web.target);
  w.reopen();
  await waitFor(async () => (await p.metric('floki_input_tail_files_closed_total')) === 1, 'the deleted file closed once drained', 5000);
  await waitFor(() => w.seq > 800, 'more lines', 5000);
  w.stop();
  await waitFor(() => s.seqs('web-0').length >= w.seq, 'every line', 30_000);
  assertExactlyOnceInOrder(s.loki, 'web-0', w.seq);
  assert.equal(await p.metric('floki_input_tail_files_open'), 1);
});

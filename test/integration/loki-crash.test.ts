/**
 * Crash safety of the disk buffer, with floki as a real process killed with SIGKILL:
 * - killed while sending: after a restart on the same storage.path, every entry whose forward chunk
 *   was acked arrives, with its original timestamp (a copy, if any, has the same timestamp);
 * - the tail of a segment file torn (a power cut during a block write): the whole blocks before it
 *   are delivered, the torn one is dropped alone.
 *
 * floki runs as `node --import tsx src/cli.ts` (no wrapper process), so SIGKILL hits floki itself.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import avro from 'avsc';
import { unpackMultiple } from 'msgpackr';
import { freePort, ROOT } from '../helpers/floki-process.js';
import { LokiReceiver, type ReceivedEntry } from '../helpers/loki-receiver.js';
import { arr, cat, entry, eventTime, rec, str } from '../helpers/msgpack-wire.js';
import { waitFor } from '../helpers/wait.js';

const SEC = 1_764_064_800;

class Floki {
  readonly child: ChildProcess;
  stderr = '';
  private readonly exited: Promise<void>;

  constructor(config: string) {
    this.child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli.ts'), '-c', config], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
  }

  ready(): Promise<void> {
    return waitFor(() => this.stderr.includes('"msg":"floki started"') || this.child.exitCode !== null, 'floki started', 20_000).then(() => {
      if (!this.stderr.includes('"msg":"floki started"')) throw new Error(`floki did not start:\n${this.stderr}`);
    });
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    await this.exited;
  }
}

/** A forward client that sends chunks with `chunk` ids and records the acks. */
class AckingClient {
  private readonly socket: Socket;
  private buffered = Buffer.alloc(0);
  readonly acked = new Set<string>();

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, d]);
      try {
        for (const m of unpackMultiple(this.buffered) as { ack?: string }[]) if (m.ack) this.acked.add(m.ack);
        this.buffered = Buffer.alloc(0);
      } catch {
        // An incomplete ack: wait for the rest.
      }
    });
    socket.on('error', () => undefined);
  }

  static connect(port: number): Promise<AckingClient> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(new AckingClient(s)));
      s.once('error', reject);
    });
  }

  /** Chunk `c`: `per` events whose nanoseconds encode (c, i), so each entry is known by its timestamp. */
  send(c: number, per: number): void {
    const entries = Array.from({ length: per }, (_, i) => entry(eventTime(SEC + c, i * 1000 + 7), { log: `chunk ${c} event ${i} ${'x'.repeat(200)}` }));
    this.socket.write(cat(arr(3), str('crash.test'), arr(per), ...entries, rec({ chunk: `c${c}`, size: per })));
  }

  close(): void {
    this.socket.destroy();
  }
}

const nsOf = (c: number, i: number): bigint => BigInt(SEC + c) * 1_000_000_000n + BigInt(i * 1000 + 7);

function setup(t: TestContext, lokiPort: number, forwardPort: number) {
  const dir = mkdtempSync(join(tmpdir(), 'floki-crash-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const storage = join(dir, 'storage');
  const config = join(dir, 'floki.yaml');
  writeFileSync(
    config,
    `service:
  storage.path: ${storage}
  log_level: info
pipeline:
  inputs:
    - name: forward
      listen: 127.0.0.1
      port: ${forwardPort}
  outputs:
    - name: loki
      match: '*'
      port: ${lokiPort}
      storage.type: filesystem
      storage.total_limit_size: 4M
      batch_wait: 20ms
      batch_size: 8K
      workers: 2
      timeout: 300ms
      retry_min_backoff: 20ms
      retry_max_backoff: 100ms
`,
  );
  return { storage, config };
}

/** Each (chunk, event) that arrived, with the timestamps it arrived with. */
function arrivals(entries: ReceivedEntry[]): Map<string, Set<bigint>> {
  const out = new Map<string, Set<bigint>>();
  for (const e of entries) {
    const m = /chunk (\d+) event (\d+)/.exec(JSON.parse(e.line).log as string)!;
    const key = `${m[1]}/${m[2]}`;
    if (!out.has(key)) out.set(key, new Set());
    out.get(key)!.add(e.ts);
  }
  return out;
}

test('SIGKILL while sending with the disk buffer: after a restart every acked entry arrives with its timestamp', async (t) => {
  const loki = await LokiReceiver.start();
  t.after(() => loki.close());
  const forwardPort = await freePort();
  const { config } = setup(t, loki.port, forwardPort);
  const first = new Floki(config);
  t.after(() => first.kill());
  await first.ready();

  // Loki takes a while: the first requests are answered, later ones hang (in flight at the kill) or fail.
  let answered = 0;
  loki.rule = () => (answered++ < 3 ? undefined : answered % 2 ? 'stall' : 503);
  const client = await AckingClient.connect(forwardPort);
  t.after(() => client.close());
  const chunks = 40;
  const per = 25;
  for (let c = 0; c < chunks; c++) client.send(c, per);
  await waitFor(() => client.acked.size === chunks, 'every chunk acked (on disk)', 15_000);
  await loki.waitForRequests(6, 10_000);
  await first.kill('SIGKILL');
  client.close();
  const deliveredBefore = loki.entries.length;
  assert.ok(deliveredBefore < chunks * per, 'killed before everything was delivered');

  loki.rule = undefined;
  loki.release(503);
  const second = new Floki(config);
  t.after(() => second.kill());
  await second.ready();
  await loki.waitUntil(() => arrivals(loki.entries).size === chunks * per, 'every acked entry', 20_000);
  for (const [key, times] of arrivals(loki.entries)) {
    const [c, i] = key.split('/').map(Number);
    assert.deepEqual([...times], [nsOf(c!, i!)], `entry ${key}: its own timestamp, however often it came`);
  }
  assert.match(second.stderr, /entries from a previous run will be sent first/);
  await second.kill('SIGTERM');
});

test('a torn segment tail: the whole blocks before it are delivered after the restart, the torn block alone is dropped', async (t) => {
  const loki = await LokiReceiver.start();
  t.after(() => loki.close());
  await loki.down();
  const forwardPort = await freePort();
  const { storage, config } = setup(t, loki.port, forwardPort);
  const first = new Floki(config);
  t.after(() => first.kill());
  await first.ready();
  const client = await AckingClient.connect(forwardPort);
  t.after(() => client.close());
  // One chunk at a time, so each chunk is one block.
  for (let c = 0; c < 12; c++) {
    client.send(c, 20);
    await waitFor(() => client.acked.has(`c${c}`), `chunk ${c} acked`, 10_000);
  }
  await first.kill('SIGKILL');
  client.close();

  const dir = join(storage, 'loki.0');
  const files = readdirSync(dir).filter((f) => f.endsWith('.avro')).sort();
  assert.ok(files.length >= 1);
  const last = join(dir, files[files.length - 1]!);
  truncateSync(last, statSync(last).size - 30); // a power cut in the middle of the last block

  // What survives, read by avsc's own container decoder: every record of every whole block.
  const expected = new Set<string>();
  for (const f of files) {
    await new Promise<void>((resolve) => {
      avro
        .createFileDecoder(join(dir, f), { parseHook: (schema: avro.Schema) => avro.Type.forSchema(schema, { registry: { long: avro.types.LongType.__with(BIGINT_LONG) } }) })
        .on('data', (r: { line: string }) => {
          const m = /chunk (\d+) event (\d+)/.exec(JSON.parse(r.line).log as string)!;
          expected.add(`${m[1]}/${m[2]}`);
        })
        .on('error', () => resolve()) // the torn block
        .on('end', () => resolve());
    });
  }
  assert.equal(expected.size, 11 * 20, 'avsc reads every block but the torn one');

  await loki.up();
  const second = new Floki(config);
  t.after(() => second.kill());
  await second.ready();
  await loki.waitUntil(() => arrivals(loki.entries).size >= expected.size, 'the whole blocks', 20_000);
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.deepEqual([...arrivals(loki.entries).keys()].sort(), [...expected].sort());
  assert.match(second.stderr, /dropped a torn last block/);
  await second.kill('SIGTERM');
});

const BIGINT_LONG = {
  fromBuffer: (b: Buffer) => b.readBigInt64LE(),
  toBuffer: (n: bigint) => Buffer.from(new BigInt64Array([n]).buffer),
  fromJSON: BigInt,
  toJSON: String,
  isValid: (n: unknown) => typeof n === 'bigint',
  compare: () => 0,
};

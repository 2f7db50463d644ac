/**
 * The monitoring server on node:http answers every request as the fastify one it replaced did, byte
 * for byte but the Date header: each endpoint with each method (HEAD for every GET, 405 on
 * /api/v2/reload, 404 for the rest), query strings, fragments, percent-escapes, absolute targets,
 * bad URLs (400), Content-Types fastify refused (415) or accepted, request bodies (never read),
 * requests Node cannot parse (fastify's 400 and 431 bodies). The reference is
 * test/helpers/fastify-monitoring-server.ts, the old server's code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { Metrics } from '../../src/observability/metrics.js';
import { HealthCheck } from '../../src/observability/health-check.js';
import { MonitoringServer, type HealthSource, type ReloadControl } from '../../src/observability/http-server.js';
import { FastifyMonitoringServer } from '../helpers/fastify-monitoring-server.js';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'QUERY', 'PROPFIND', 'PURGE'];
const TARGETS = [
  '/', '/api/v1/health', '/api/v2/health', '/api/v2/reload', '/api/v1/uptime', '/api/v1/metrics/prometheus', '/metrics',
  '/metrics/', '/METRICS', '/nope', '//metrics', '/metrics;x', '/metrics?x=1', '/metrics#frag', '/?', '/#',
  '/api/v1/%68ealth', '/api/v1%2Fhealth', '/api/v2/reload%3F', '/api/v2/reload?%zz', '/metrics%', '/metrics%zz', '/metrics%4',
  '/%25', '/a%2525', '/%E0%A4%A', '/%c3%a9', '*', 'metrics', 'http://localhost/metrics', 'http://localhost',
  'http://localhost?x', 'HTTP://h:1/api/v2/reload?y', 'ftp://x/metrics', 'http://x#/metrics', 'http:///metrics', 'https://a@b/metrics',
];
/** Headers (and body) after the request line, Host and Connection: close. */
const VARIANTS = [
  '\r\n',
  'Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}',
  'Content-Type: ;;\r\nContent-Length: 2\r\n\r\n{}',
  'Content-Type: text\r\n\r\n',
  'Content-Type: Text/Plain ; charset="x"\r\n\r\n',
  'Content-Type: a/b c\r\n\r\n',
  'Content-Length: 5\r\n\r\nhello',
  'Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n',
];
const RAW = [
  'GARBAGE\r\n\r\n',
  'GET / HTTP/1.1\r\n\r\n',
  'GET / HTTP/1.0\r\n\r\n',
  'GET / HTTP/2.0\r\nHost: x\r\n\r\n',
  `GET /metrics HTTP/1.1\r\nHost: x\r\nX: ${'y'.repeat(20_000)}\r\n\r\n`,
  'GET / HTTP/1.1\r\nHost: x\r\n\r\nHEAD /api/v1/uptime HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
  'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n',
  'OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
  'POST /api/v2/reload HTTP/1.1\r\nHost: x\r\nConnection: close\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n',
];

/** The raw answer to one request on its own connection, once the server closed it; the Date header masked. */
function exchange(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no end of answer to ${JSON.stringify(request.slice(0, 80))}`));
    }, 10_000);
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1').replace(/\r\nDate: [^\r]*/i, '\r\nDate: -'));
    });
    socket.write(request);
  });
}

async function compare(make: (kind: 'node' | 'fastify') => { listen(h: string, p: number): Promise<{ port: number }>; close(): Promise<void> }): Promise<void> {
  const ours = make('node');
  const reference = make('fastify');
  // One start time for both, so that /api/v1/uptime gives the same seconds.
  (reference as unknown as { startedAt: number }).startedAt = (ours as unknown as { startedAt: number }).startedAt;
  const a = (await ours.listen('127.0.0.1', 0)).port;
  const b = (await reference.listen('127.0.0.1', 0)).port;
  try {
    const requests = [...RAW];
    for (const m of METHODS) for (const t of TARGETS) for (const v of VARIANTS) requests.push(`${m} ${t} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${v}`);
    const differences: string[] = [];
    for (let i = 0; i < requests.length; i += 16) {
      const batch = requests.slice(i, i + 16);
      const answers = await Promise.all(batch.flatMap((r) => [exchange(a, r), exchange(b, r)]));
      batch.forEach((r, j) => {
        if (answers[2 * j] !== answers[2 * j + 1]) differences.push(`${JSON.stringify(r.slice(0, 100))}\n  node:    ${JSON.stringify(answers[2 * j])}\n  fastify: ${JSON.stringify(answers[2 * j + 1])}`);
      });
    }
    assert.equal(differences.length, 0, `${differences.length} of ${requests.length} answers differ:\n${differences.slice(0, 5).join('\n')}`);
  } finally {
    await ours.close();
    await reference.close();
  }
}

function fixtures(): { metrics: Metrics; check: HealthCheck; reloader: ReloadControl } {
  const metrics = new Metrics();
  metrics.counter('floki_output_errors_total', 'Requests that failed.').inc({ name: 'loki.0' }, 2);
  const check = new HealthCheck(metrics, { errorsCount: 1, retryFailureCount: 1, periodMs: 60_000 });
  const reloader: ReloadControl = { reloads: 3, reloadFailures: 1, reload: async () => ({ body: { reload: 'failed', status: -3, errors: ['x: bad'] }, httpStatus: 400 }) };
  return { metrics, check, reloader };
}

test('with a health check and hot reload: the same answers as the fastify server', async () => {
  const { metrics, check, reloader } = fixtures();
  await check.sample();
  const health: HealthSource = { running: true };
  await compare((kind) => (kind === 'node' ? new MonitoringServer(metrics, health, check, reloader) : new FastifyMonitoringServer(metrics, health, check, reloader)));
});

test('stopping, without a health check or reload: the same answers as the fastify server', async () => {
  const { metrics } = fixtures();
  const health: HealthSource = { running: false };
  await compare((kind) => (kind === 'node' ? new MonitoringServer(metrics, health) : new FastifyMonitoringServer(metrics, health)));
});

test('localhost: listens on every address it resolves to, on one port, as fastify did', async () => {
  const server = new MonitoringServer(new Metrics(), { running: true });
  const { port } = await server.listen('localhost', 0);
  try {
    const { lookup } = await import('node:dns/promises');
    for (const { address } of await lookup('localhost', { all: true })) {
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(port, address);
        let text = '';
        socket.on('data', (d) => (text += d));
        socket.on('error', reject);
        socket.on('close', () => resolve(text));
        socket.write('GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      });
      assert.match(answer, /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nok$/, address);
    }
  } finally {
    await server.close();
  }
});

import { createRequire } from 'node:module';
import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../../src/observability/metrics.js';
import type { HealthCheck } from '../../src/observability/health-check.js';
import type { HealthSource, ReloadControl, ReloadOutcome } from '../../src/observability/http-server.js';
import { VERSION } from '../../src/package-root.js';

/**
 * The monitoring server as it was built on fastify (5.12), kept as the reference that the node:http
 * server (src/observability/http-server.ts) must answer like, byte for byte: see
 * test/integration/monitoring-server-parity.test.ts.
 */
export class FastifyMonitoringServer {
  private readonly app: FastifyInstance;
  private readonly startedAt = Date.now();

  constructor(
    private readonly metrics: Metrics,
    private readonly health: HealthSource,
    private readonly check?: HealthCheck,
    private readonly reloader?: ReloadControl,
  ) {
    // fastify is loaded when a server starts: a process without http_server does not pay its ~10 MiB.
    const Fastify = createRequire(import.meta.url)('fastify') as typeof import('fastify').default;
    this.app = Fastify({ logger: false });
    // Fluent Bit's reload takes `-d '{}'` (curl sends it as a form); floki reads no request body.
    this.app.removeAllContentTypeParsers();
    this.app.addContentTypeParser('*', { bodyLimit: 64 * 1024 }, (_req, _payload, done) => done(null, undefined));
    this.app.get('/', async () => ({ 'floki-version': VERSION }));
    this.app.get('/api/v1/health', async (_req, reply) => {
      if (!this.health.running) return reply.code(503).type('text/plain').send('error');
      const healthy = this.check ? (await this.check.state()).healthy : true;
      return reply.code(healthy ? 200 : 500).type('text/plain').send(healthy ? 'ok' : 'error');
    });
    this.app.get('/api/v2/health', async (_req, reply) => {
      const state = this.check ? await this.check.state() : { healthy: true, errors: 0, retriesFailed: 0 };
      const healthy = state.healthy && this.health.running;
      const o = this.check?.options;
      return reply.code(healthy ? 200 : this.health.running ? 500 : 503).send({
        status: healthy ? 'ok' : 'error',
        errors: state.errors,
        retries_failed: state.retriesFailed,
        error_limit: o?.errorsCount ?? null,
        retry_failure_limit: o?.retryFailureCount ?? null,
        period_limit: o ? Math.round(o.periodMs / 1000) : null,
      });
    });
    this.app.get('/api/v2/reload', async () => ({ hot_reload_count: this.reloader?.reloads ?? 0, hot_reload_failure_count: this.reloader?.reloadFailures ?? 0 }));
    const reload = async (_req: unknown, reply: import('fastify').FastifyReply) => {
      const outcome: ReloadOutcome = this.reloader ? await this.reloader.reload() : { body: { reload: 'not enabled', status: -1 }, httpStatus: 200 };
      return reply.code(outcome.httpStatus).send(outcome.body);
    };
    this.app.post('/api/v2/reload', reload);
    this.app.put('/api/v2/reload', reload);
    this.app.route({
      method: ['DELETE', 'PATCH', 'OPTIONS'],
      url: '/api/v2/reload',
      handler: async (_req, reply) => reply.code(405).header('allow', 'GET, POST, PUT').send(),
    });
    this.app.get('/api/v1/uptime', async () => ({ uptime_sec: Math.floor((Date.now() - this.startedAt) / 1000) }));
    const prometheus = async (_req: unknown, reply: import('fastify').FastifyReply) =>
      reply.type(this.metrics.registry.contentType).send(await this.metrics.registry.metrics());
    this.app.get('/api/v1/metrics/prometheus', prometheus);
    this.app.get('/metrics', prometheus);
  }

  async listen(host: string, port: number): Promise<{ host: string; port: number }> {
    await this.app.listen({ host, port });
    const addr = this.app.server.address();
    return { host, port: typeof addr === 'object' && addr ? addr.port : port };
  }

  async close(): Promise<void> {
    await this.app.close();
  }
}

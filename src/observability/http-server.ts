import { createRequire } from 'node:module';
import type { FastifyInstance } from 'fastify';
import type { Metrics } from './metrics.js';
import type { HealthCheck } from './health-check.js';
import { VERSION } from '../package-root.js';

export interface HealthSource {
  /** False once the engine is stopping: the endpoint then answers 503 so load balancers move away. */
  readonly running: boolean;
}

/** What a reload answered: Fluent Bit's JSON (`reload`, `status`; floki adds `errors`) and the HTTP status. */
export interface ReloadOutcome {
  body: { reload: 'done' | 'not enabled' | 'in progress' | 'failed'; status: number; errors?: string[] };
  httpStatus: number;
}

/** Hot reload, as `/api/v2/reload` drives it. */
export interface ReloadControl {
  reload(): Promise<ReloadOutcome>;
  /** Reloads that replaced the pipeline. */
  readonly reloads: number;
  /** Reloads refused or failed. */
  readonly reloadFailures: number;
}

/**
 * Fluent Bit's monitoring endpoints: health, Prometheus metrics (also on /metrics), uptime, hot
 * reload. With `health_check` on, `/api/v1/health` answers 500 `error` while the outputs fail more
 * than the service allows (see HealthCheck), and `/api/v2/health` says why in Fluent Bit's JSON.
 * `/api/v2/reload`: GET gives Fluent Bit's `{"hot_reload_count":N}` (and floki's failure count);
 * POST or PUT reloads and answers once done (Fluent Bit answers before it reloads).
 */
export class MonitoringServer {
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

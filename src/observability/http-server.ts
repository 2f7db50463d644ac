import Fastify, { type FastifyInstance } from 'fastify';
import type { Metrics } from './metrics.js';
import type { HealthCheck } from './health-check.js';
import { VERSION } from '../package-root.js';

export interface HealthSource {
  /** False once the engine is stopping: the endpoint then answers 503 so load balancers move away. */
  readonly running: boolean;
}

/**
 * Fluent Bit's monitoring endpoints: health, Prometheus metrics (also on /metrics), uptime. With
 * `health_check` on, `/api/v1/health` answers 500 `error` while the outputs fail more than the
 * service allows (see HealthCheck), and `/api/v2/health` says why in Fluent Bit's JSON.
 */
export class MonitoringServer {
  private readonly app: FastifyInstance;
  private readonly startedAt = Date.now();

  constructor(
    private readonly metrics: Metrics,
    private readonly health: HealthSource,
    private readonly check?: HealthCheck,
  ) {
    this.app = Fastify({ logger: false });
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

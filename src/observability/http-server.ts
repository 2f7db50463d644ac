import Fastify, { type FastifyInstance } from 'fastify';
import type { Metrics } from './metrics.js';
import { VERSION } from '../package-root.js';

export interface HealthSource {
  /** False once the engine is stopping: the endpoint then answers 503 so load balancers move away. */
  readonly running: boolean;
}

/** Fluent Bit's monitoring endpoints: health, Prometheus metrics (also on /metrics), uptime. */
export class MonitoringServer {
  private readonly app: FastifyInstance;
  private readonly startedAt = Date.now();

  constructor(
    private readonly metrics: Metrics,
    private readonly health: HealthSource,
  ) {
    this.app = Fastify({ logger: false });
    this.app.get('/', async () => ({ 'floki-version': VERSION }));
    this.app.get('/api/v1/health', async (_req, reply) => {
      const ok = this.health.running;
      return reply.code(ok ? 200 : 503).type('text/plain').send(ok ? 'ok' : 'error');
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

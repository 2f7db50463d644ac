import type { Logger } from 'pino';
import type { FlokiConfig } from './core/pipeline-config.js';
import { Engine } from './core/engine.js';
import { Metrics } from './observability/metrics.js';
import { MonitoringServer } from './observability/http-server.js';
import { HealthCheck } from './observability/health-check.js';
import { createLogger } from './observability/log.js';

/** One running floki: config, engine, and the monitoring server when `http_server` is on. */
export class Floki {
  readonly metrics = new Metrics({ processMetrics: true });
  readonly engine: Engine;
  private server?: MonitoringServer;
  private health?: HealthCheck;
  /** Where the monitoring server listens, once started. */
  httpAddress?: { host: string; port: number };

  constructor(
    readonly config: FlokiConfig,
    readonly log: Logger = createLogger(config.service.logLevel === 'off' ? 'silent' : config.service.logLevel),
  ) {
    this.engine = new Engine(config, log, this.metrics);
  }

  async start(): Promise<void> {
    for (const w of this.config.warnings) this.log.warn({ file: w.file, line: w.line }, `config: ${w.message}`);
    const s = this.config.service;
    if (s.httpServer) {
      if (s.healthCheck) {
        this.health = new HealthCheck(this.metrics, { errorsCount: s.hcErrorsCount, retryFailureCount: s.hcRetryFailureCount, periodMs: s.hcPeriodMs });
        this.health.start();
      }
      this.server = new MonitoringServer(this.metrics, this.engine, this.health);
      this.httpAddress = await this.server.listen(s.httpListen, s.httpPort);
      this.log.info({ address: `${this.httpAddress.host}:${this.httpAddress.port}` }, 'monitoring server listening');
    }
    await this.engine.start();
  }

  async stop(graceMs?: number): Promise<void> {
    await this.engine.stop(graceMs);
    this.health?.stop();
    await this.server?.close();
  }
}

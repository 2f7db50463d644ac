import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import type { LoadResult } from './config/load.js';
import { formatProblem } from './config/errors.js';
import type { FlokiConfig, ServiceConfig } from './core/pipeline-config.js';
import { Engine, ReloadError } from './core/engine.js';
import { Metrics } from './observability/metrics.js';
import { MonitoringServer, type ReloadControl, type ReloadOutcome } from './observability/http-server.js';
import { HealthCheck } from './observability/health-check.js';
import { createLogger, pinoLevel } from './observability/log.js';

export interface FlokiOptions {
  /**
   * Reads the config again for a reload (the CLI: the file it was started with, loading the plugins
   * it names that are not loaded yet). Without it, nothing can be reloaded.
   */
  reader?: () => LoadResult | Promise<LoadResult>;
  /** `-Y` (`--enable-hot-reload`): reload on SIGHUP and `/api/v2/reload` whatever `service.hot_reload` says. */
  hotReload?: boolean;
  /** Called when a reload left no pipeline running (neither the new config nor the previous one could start). */
  onFatal?: (err: Error) => void;
}

/** The HTTP settings that, changed by a reload, restart the monitoring server. */
const SERVER_KEYS = ['httpServer', 'httpListen', 'httpPort', 'healthCheck', 'hcErrorsCount', 'hcRetryFailureCount', 'hcPeriodMs'] as const;

/**
 * One running floki: config, engine, the monitoring server when `http_server` is on, and hot reload
 * (SIGHUP or `/api/v2/reload` read the config again and replace the pipeline; see Engine.reload).
 */
export class Floki implements ReloadControl {
  readonly metrics = new Metrics();
  readonly engine: Engine;
  private server?: MonitoringServer;
  private health?: HealthCheck;
  /** Where the monitoring server listens, once started. */
  httpAddress?: { host: string; port: number };
  /** Reloads that replaced the pipeline (Fluent Bit's `hot_reload_count`). */
  reloads = 0;
  /** Reloads refused (an invalid config) or that could not start the new pipeline. */
  reloadFailures = 0;
  private reloading: Promise<ReloadOutcome> | undefined;
  /** A SIGHUP came during a reload: read the config once more after it. */
  private reloadAgain = false;
  private stopping = false;
  private readonly reloadCount: Counter<string>;

  constructor(
    config: FlokiConfig,
    readonly log: Logger = createLogger(pinoLevel(config.service.logLevel)),
    private readonly options: FlokiOptions = {},
  ) {
    this.engine = new Engine(config, log, this.metrics);
    this.reloadCount = this.metrics.counter('floki_config_reloads_total', 'Hot reloads by result: success (the new pipeline runs) or failure (refused config, or it could not start).', ['result']);
  }

  /** The config running now (a reload replaces it). */
  get config(): FlokiConfig {
    return this.engine.config;
  }

  get hotReloadEnabled(): boolean {
    return this.options.hotReload === true || this.config.service.hotReload;
  }

  async start(): Promise<void> {
    for (const w of this.config.warnings) this.log.warn({ file: w.file, line: w.line }, `config: ${w.message}`);
    await this.startServer(this.config.service);
    await this.engine.start();
  }

  async stop(graceMs?: number): Promise<void> {
    this.stopping = true;
    await this.engine.stop(graceMs);
    this.health?.stop();
    await this.server?.close();
  }

  /**
   * `POST /api/v2/reload`: reads the config again and, when it is valid, replaces the pipeline; an
   * invalid one leaves the running pipeline alone, its every error logged. Resolves when done.
   */
  reload(): Promise<ReloadOutcome> {
    if (!this.hotReloadEnabled) {
      this.log.warn('reload: hot reload is not enabled (service hot_reload on, or -Y)');
      return Promise.resolve({ body: { reload: 'not enabled', status: -1 }, httpStatus: 200 });
    }
    if (this.reloading !== undefined) return Promise.resolve({ body: { reload: 'in progress', status: -2 }, httpStatus: 400 });
    if (this.stopping || !this.engine.running) return Promise.resolve({ body: { reload: 'failed', status: -3, errors: ['floki is starting or stopping'] }, httpStatus: 503 });
    const run = this.runReload().finally(() => {
      this.reloading = undefined;
      if (this.reloadAgain) {
        this.reloadAgain = false;
        void this.reload();
      }
    });
    this.reloading = run;
    return run;
  }

  /** SIGHUP: as `reload()`; one during a reload reads the config again once that reload is done. */
  reloadOnSignal(): void {
    if (this.reloading !== undefined && this.hotReloadEnabled) {
      this.reloadAgain = true;
      this.log.info('reload: SIGHUP during a reload; reading the config again once it is done');
      return;
    }
    void this.reload();
  }

  private async runReload(): Promise<ReloadOutcome> {
    const reader = this.options.reader;
    if (reader === undefined) return this.failed(['no config file to read again'], 400);
    this.log.info('reload: reading the config again');
    let loaded: LoadResult;
    try {
      loaded = await reader();
    } catch (err) {
      return this.failed([(err as Error).message], 400);
    }
    if (loaded.config === undefined) {
      const errors = loaded.problems.map(formatProblem);
      for (const p of loaded.problems) this.log.error({ file: p.file, line: p.line }, `reload: config: ${p.message}`);
      this.log.error({ errors: errors.length }, 'reload: the config is invalid; the running pipeline goes on as it was');
      return this.failed(errors, 400);
    }
    const next = loaded.config;
    for (const w of next.warnings) this.log.warn({ file: w.file, line: w.line }, `config: ${w.message}`);
    const previous = this.config.service;
    const level = this.log.level;
    this.log.level = pinoLevel(next.service.logLevel);
    try {
      await this.engine.reload(next);
    } catch (err) {
      this.log.level = level;
      const message = (err as Error).message;
      if (err instanceof ReloadError && !err.restored) {
        this.log.fatal({ err: message }, 'reload: no pipeline could start');
        this.options.onFatal?.(err);
      }
      return this.failed([message], 500);
    }
    this.reloads++;
    this.reloadCount.inc({ result: 'success' });
    if (SERVER_KEYS.some((k) => previous[k] !== next.service[k])) {
      // After this answer: the server may be the one the reload was asked on.
      setImmediate(() => void this.restartServer(next.service));
    }
    return { body: { reload: 'done', status: 0 }, httpStatus: 200 };
  }

  private failed(errors: string[], httpStatus: number): ReloadOutcome {
    this.reloadFailures++;
    this.reloadCount.inc({ result: 'failure' });
    return { body: { reload: 'failed', status: -3, errors }, httpStatus };
  }

  private async startServer(s: ServiceConfig): Promise<void> {
    if (!s.httpServer) return;
    this.metrics.enableProcessMetrics();
    if (s.healthCheck) {
      this.health = new HealthCheck(this.metrics, { errorsCount: s.hcErrorsCount, retryFailureCount: s.hcRetryFailureCount, periodMs: s.hcPeriodMs });
      this.health.start();
    }
    this.server = new MonitoringServer(this.metrics, this.engine, this.health, this);
    this.httpAddress = await this.server.listen(s.httpListen, s.httpPort);
    this.log.info({ address: `${this.httpAddress.host}:${this.httpAddress.port}` }, 'monitoring server listening');
  }

  private async restartServer(s: ServiceConfig): Promise<void> {
    if (this.stopping) return;
    this.health?.stop();
    this.health = undefined;
    const old = this.server;
    this.server = undefined;
    this.httpAddress = undefined;
    try {
      await old?.close();
      await this.startServer(s);
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'reload: the monitoring server could not start with the new settings');
    }
  }
}

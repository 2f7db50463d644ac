/**
 * The `service` sections (several are merged, a later key winning, as Fluent Bit sets them one after
 * the other). Keys floki does not know are ignored with a warning, as Fluent Bit ignores them;
 * `plugins_file` and `streams_file` are refused.
 */
import type { ServiceConfig } from '../../core/pipeline-config.js';
import type { ConfigEntry, ConfigSection } from '../model.js';
import { SERVICE_OPTIONS, SERVICE_REFUSED } from '../service-options.js';
import type { Variables } from '../variables.js';
import { groupEntries, resolveOptions } from './options.js';
import type { Report } from './report.js';

const KNOWN = new Set(SERVICE_OPTIONS.map((o) => o.name));

export function resolveService(sections: readonly ConfigSection[], variables: Variables, report: Report, mainFile: string): ServiceConfig {
  const entries: ConfigEntry[] = [];
  for (const section of sections) {
    for (const entry of section.entries) {
      const key = entry.key.toLowerCase();
      if (SERVICE_REFUSED[key]) report.problem(entry, `service: key '${key}' is not supported by floki (${SERVICE_REFUSED[key]})`);
      else if (KNOWN.has(key)) entries.push(entry);
      else report.warning(entry, `service: key '${key}' is ignored by floki`);
    }
  }
  const at = sections[0] ?? { file: mainFile, line: 1 };
  const values = resolveOptions(SERVICE_OPTIONS, groupEntries(entries), variables, 'service', at, report, true);
  const logLevel = normalLogLevel(values['log_level'] as string | undefined) ?? 'info';
  const service: ServiceConfig = {
    flushMs: values['flush'] as number,
    graceMs: values['grace'] as number,
    logLevel,
    httpServer: values['http_server'] as boolean,
    httpListen: values['http_listen'] as string,
    httpPort: values['http_port'] as number,
    healthCheck: values['health_check'] as boolean,
    hcErrorsCount: values['hc_errors_count'] as number,
    hcRetryFailureCount: values['hc_retry_failure_count'] as number,
    hcPeriodMs: values['hc_period'] as number,
    hotReload: values['hot_reload'] as boolean,
    storagePath: values['storage.path'] as string | undefined,
  };
  if (service.healthCheck && !service.httpServer) {
    const entry = entries.find((e) => e.key.toLowerCase() === 'health_check') ?? at;
    report.warning(entry, 'service: health_check needs http_server on to be asked');
  }
  for (const key of ['hc_errors_count', 'hc_retry_failure_count'] as const) {
    if ((values[key] as number) < 0) report.problem(entries.find((e) => e.key.toLowerCase() === key) ?? at, `service: key '${key}' must be 0 or more`);
  }
  if (service.hcPeriodMs < 1000) report.problem(entries.find((e) => e.key.toLowerCase() === 'hc_period') ?? at, "service: key 'hc_period' must be at least 1s");
  return service;
}

/** Fluent Bit's log levels as floki's logger names them: `warning` is `warn`. */
export function normalLogLevel(level: string | undefined): string | undefined {
  if (level === undefined) return undefined;
  const l = level.toLowerCase();
  return l === 'warning' ? 'warn' : l;
}

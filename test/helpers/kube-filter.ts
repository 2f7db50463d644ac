/** The kubernetes filter run outside the engine, against the API-server stand-in, with test parsers. */
import type { TestContext } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { parseOption, type ResolvedOptions } from '../../src/config/options.js';
import type { LogEvent } from '../../src/core/event.js';
import { KubernetesFilter, kubernetesFilterOptions, resolveKubernetesFilterOptions, type KubernetesFilterTimings } from '../../src/filters/kubernetes/index.js';
import { Metrics } from '../../src/observability/metrics.js';
import { ParserRegistry, type Parser } from '../../src/parsers/registry.js';
import { KubeApiServer } from './kube-apiserver.js';
import { filterContext } from './plugin-context.js';

/** A real `format regex` parser, defined as a config would define it (no time_key, no types). */
export function regexParser(name: string, regex: string): Parser {
  const registry = new ParserRegistry();
  const problems = registry.define({ file: 'test', line: 1, entries: [{ key: 'name', value: name, line: 1 }, { key: 'format', value: 'regex', line: 1 }, { key: 'regex', value: regex, line: 1 }] });
  if (problems.length) throw new Error(problems.map((p) => p.message).join('; '));
  return registry.parser(name)!;
}

/** The parser registry of a config that defines these parsers. */
export class TestParsers extends ParserRegistry {
  private readonly own = new Map<string, Parser>();
  constructor(parsers: Parser[] = []) {
    super();
    for (const p of parsers) this.own.set(p.name, p);
  }
  override parser(name: string): Parser | undefined {
    return this.own.get(name) ?? super.parser(name);
  }
}

/** The filter's options: the table's defaults, then `overrides` as a config would give them. */
export function filterOptions(overrides: Record<string, unknown>): ResolvedOptions {
  const options: ResolvedOptions = {};
  for (const spec of kubernetesFilterOptions) {
    if (spec.default !== undefined) options[spec.name] = parseOption(spec, spec.default);
    if (overrides[spec.name] !== undefined) options[spec.name] = parseOption(spec, overrides[spec.name]);
  }
  for (const key of Object.keys(overrides)) if (!kubernetesFilterOptions.some((s) => s.name === key)) throw new Error(`unknown option ${key}`);
  return options;
}

export interface FilterHarness {
  api: KubeApiServer;
  tokenFile: string;
  metrics: Metrics;
  /** The filters' log lines (pino objects), warnings and up. */
  logs: Record<string, unknown>[];
  filter(overrides?: Record<string, unknown>, timings?: Partial<KubernetesFilterTimings>, parsers?: Parser[]): KubernetesFilter;
}

/** A stand-in API server, a token file, and filters pointed at them; all stopped and removed after the test. */
export async function kubeFilterHarness(t: TestContext, token = 'token-a'): Promise<FilterHarness> {
  const api = await KubeApiServer.start([token]);
  const dir = mkdtempSync(join(tmpdir(), 'floki-kube-filter-'));
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, token);
  const metrics = new Metrics();
  const logs: Record<string, unknown>[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
  const filters: KubernetesFilter[] = [];
  t.after(async () => {
    await Promise.all(filters.map((f) => f.stop()));
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    api,
    tokenFile,
    metrics,
    logs,
    filter(overrides = {}, timings = {}, parsers = []) {
      const options = resolveKubernetesFilterOptions(filterOptions({ kube_url: api.url, kube_ca_file: api.caFile, kube_token_file: tokenFile, ...overrides }), {});
      const ctx = { ...filterContext(`kubernetes.${filters.length}`, metrics), parsers: new TestParsers(parsers), log };
      const filter = new KubernetesFilter(options, ctx, timings);
      filters.push(filter);
      return filter;
    },
  };
}

/** Runs the filter on a batch, waiting if it answers later. */
export async function run(filter: KubernetesFilter, events: LogEvent[]): Promise<LogEvent[]> {
  return filter.process(events);
}

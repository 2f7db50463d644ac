/**
 * What the engine runs: the validated config, plugin by plugin. The config loader (src/config)
 * builds it from any format; the engine reads it and never sees a config file.
 */
import type { ResolvedOptions } from '../config/options.js';
import type { ParserRegistry } from '../parsers/registry.js';
import type { ServiceSettings } from './plugin.js';
import type { AnyPlugin } from './registry-types.js';
import type { TagMatcher } from './tag-match.js';

export type Section = 'inputs' | 'filters' | 'outputs';

export interface PluginInstanceConfig {
  section: Section;
  index: number;
  plugin: AnyPlugin;
  /** Instance name for metrics and logs: the `alias`, else `<plugin>.<n>` counted per plugin name. */
  instanceName: string;
  options: ResolvedOptions;
  /**
   * `storage.type` (Fluent Bit's key): `filesystem` on an input means its events are on disk before
   * they are acknowledged, so outputs fed by it buffer on disk. Taken from the plugin's own option
   * when it declares one, else accepted on every input and output.
   */
  storageType?: 'memory' | 'filesystem';
  /**
   * For filters and outputs: which tags they take. An output without `match` has a matcher that
   * matches nothing (Fluent Bit warns and sends it nothing).
   */
  matcher?: TagMatcher;
  /**
   * Filters that run on this input's or output's events alone, in order (YAML `processors: logs:`):
   * an input's before routing, an output's just before it takes the events.
   */
  processors?: PluginInstanceConfig[];
  /** The instance's own `log_level`, when it sets one (else the service's). */
  logLevel?: string;
  /**
   * Fluentd's labels (set only by the Fluentd front-end): an input's events enter this route group,
   * and a filter or output takes events of its own group only. Undefined everywhere for Fluent Bit
   * configs: one group, routing as Fluent Bit routes.
   */
  routeGroup?: string;
  /**
   * An output that is Fluentd's `relabel` (or a `copy` store of one): the events it matches go on into
   * this route group's filters and outputs instead of being written.
   */
  relabel?: string;
  /** Where the instance is defined. */
  file?: string;
  line: number;
}

export interface ServiceConfig extends ServiceSettings {
  httpServer: boolean;
  httpListen: string;
  httpPort: number;
  /** `health_check`: `/api/v1/health` answers error when outputs fail more than these within the period. */
  healthCheck: boolean;
  hcErrorsCount: number;
  hcRetryFailureCount: number;
  hcPeriodMs: number;
  /** `hot_reload`: SIGHUP and `/api/v2/reload` read the config again and replace the pipeline. */
  hotReload: boolean;
}

export interface FlokiConfig {
  file: string;
  service: ServiceConfig;
  inputs: PluginInstanceConfig[];
  filters: PluginInstanceConfig[];
  outputs: PluginInstanceConfig[];
  /** Named parsers and multiline parsers, for the plugins that parse. */
  parsers: ParserRegistry;
  /** What the loader warns about (ignored keys and sections, outputs without match), logged at start. */
  warnings: ConfigWarning[];
}

export interface ConfigWarning {
  file: string;
  line: number;
  message: string;
}

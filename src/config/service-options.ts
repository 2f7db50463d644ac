import type { OptionSpec } from './options.js';
import { LOG_LEVELS } from './common-keys.js';

/**
 * The `service` section, with Fluent Bit's names. Other keys Fluent Bit knows (`daemon`, `log_file`,
 * `storage.sync`, `storage.metrics`, …) are ignored with a warning, as Fluent Bit ignores keys it
 * does not know; SERVICE_REFUSED lists those that would change what is delivered.
 */
export const SERVICE_OPTIONS: readonly OptionSpec[] = [
  { name: 'flush', type: 'duration', default: 1, description: 'How often outputs flush what they hold (a bare number is seconds).' },
  { name: 'grace', type: 'duration', default: 5, description: 'On SIGTERM or SIGINT, how long outputs may keep sending before floki exits; at a reload, how long the inputs may take to stop.' },
  { name: 'log_level', type: 'string', default: 'info', choices: LOG_LEVELS, description: "Level of floki's own log (JSON lines on stderr); `warning` is `warn`." },
  { name: 'http_server', type: 'bool', default: false, description: 'Serve health and Prometheus metrics over HTTP.' },
  { name: 'http_listen', type: 'string', default: '0.0.0.0', description: 'Address of the HTTP server.' },
  { name: 'http_port', type: 'int', default: 2020, description: 'Port of the HTTP server (0 picks a free one).' },
  {
    name: 'health_check',
    type: 'bool',
    default: false,
    description: '`/api/v1/health` (and `/api/v2/health`) answer 500 `error` once the outputs failed more than hc_errors_count requests, or gave up on more than hc_retry_failure_count batches after retry_limit, within hc_period; otherwise 200 `ok`.',
  },
  { name: 'hc_errors_count', type: 'int', default: 5, description: 'health_check: failed output requests (every output together) allowed within hc_period.' },
  { name: 'hc_retry_failure_count', type: 'int', default: 5, description: 'health_check: batches given up after retry_limit (every output together) allowed within hc_period.' },
  { name: 'hc_period', type: 'duration', default: 60, description: 'health_check: the window in which failures are counted (a bare number is seconds).' },
  { name: 'hot_reload', type: 'bool', default: false, description: 'Reload the config on SIGHUP and on POST or PUT /api/v2/reload (as `-Y` does): a valid one replaces the pipeline, losing and repeating nothing; an invalid one is refused with its errors. See Hot reload.' },
  {
    name: 'parsers_file',
    type: 'list',
    default: [],
    description:
      "Files of parser definitions ([PARSER], [MULTILINE_PARSER], or YAML parsers/multiline_parsers), relative to the config's folder; may be given several times. `parsers.conf` names floki's copy of Fluent Bit's stock parsers when no such file exists.",
  },
  { name: 'storage.path', type: 'string', description: 'Folder for the disk buffer and positions of plugins that use `storage.type filesystem`.' },
];

/** Service keys Fluent Bit knows that floki refuses: they would run something floki does not have. */
export const SERVICE_REFUSED: Readonly<Record<string, string>> = {
  plugins_file: 'external plugins (.so) cannot be loaded by floki',
  streams_file: 'the stream processor is not supported by floki',
};

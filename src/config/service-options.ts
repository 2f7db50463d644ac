import type { OptionSpec } from './options.js';

/** The `service` section, with Fluent Bit's names. */
export const SERVICE_OPTIONS: readonly OptionSpec[] = [
  { name: 'flush', type: 'duration', default: 1, description: 'How often outputs flush what they hold (a bare number is seconds).' },
  { name: 'grace', type: 'duration', default: 5, description: 'On SIGTERM or SIGINT, how long outputs may keep sending before floki exits.' },
  { name: 'log_level', type: 'string', default: 'info', choices: ['off', 'error', 'warn', 'info', 'debug', 'trace'], description: "Level of floki's own log (JSON lines on stderr)." },
  { name: 'http_server', type: 'bool', default: false, description: 'Serve health and Prometheus metrics over HTTP.' },
  { name: 'http_listen', type: 'string', default: '0.0.0.0', description: 'Address of the HTTP server.' },
  { name: 'http_port', type: 'int', default: 2020, description: 'Port of the HTTP server (0 picks a free one).' },
  { name: 'storage.path', type: 'string', description: 'Folder for the disk buffer and positions of plugins that use `storage.type filesystem`.' },
];

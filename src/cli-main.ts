import { join } from 'node:path';
import { loadConfigLazily } from './config/load.js';
import { formatProblem } from './config/errors.js';
import type { FlokiConfig } from './core/pipeline-config.js';
import type { ConfigFormat } from './config/model.js';
import { PACKAGE_ROOT, VERSION } from './package-root.js';
import { registryFor } from './plugin-catalogue.js';
import { Floki } from './runtime.js';
import { startHeapGrowth } from './heap-growth.js';
import { endStartup, settleAfterStart } from './startup.js';

const USAGE = `usage: floki [-c FILE] [--format FORMAT] [--dry-run] [-Y] [--version]

  -c, --config FILE          a Fluent Bit config: YAML (.yaml, .yml) or the classic format (any
                             other name), with its includes and parsers files; or a Fluentd
                             config (its first directive is <source>, <match>, <filter>, <label>,
                             <system> or <worker>) (default: configs/default.yaml)
  -F, --format FORMAT        read the config as 'yaml', 'classic' or 'fluentd' whatever its name
                             and content
  -D, --dry-run              validate the config, print 'config ok' (and any warning) or every
                             error, and exit
  -Y, --enable-hot-reload    reload the config on SIGHUP and POST /api/v2/reload, as service
                             hot_reload on does
  -V, --version              print the version and exit
  -h, --help                 print this help

Signals: SIGTERM and SIGINT drain and exit (a second one exits at once); SIGHUP reloads the config
when hot reload is on.
`;

interface Args {
  config: string;
  format?: ConfigFormat;
  dryRun: boolean;
  hotReload: boolean;
}

function parseArgs(argv: string[]): Args | number {
  const args: Args = { config: join(PACKAGE_ROOT, 'configs', 'default.yaml'), dryRun: false, hotReload: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-c' || a === '--config') {
      const v = argv[++i];
      if (!v) return fail(`${a} needs a file`);
      args.config = v;
    } else if (a.startsWith('--config=')) args.config = a.slice('--config='.length);
    else if (a === '-F' || a === '--format' || a.startsWith('--format=')) {
      const v = a.startsWith('--format=') ? a.slice('--format='.length) : argv[++i];
      if (v !== 'yaml' && v !== 'classic' && v !== 'fluentd') return fail(`${a.split('=')[0]} needs yaml, classic or fluentd`);
      args.format = v;
    } else if (a === '--dry-run' || a === '-D') args.dryRun = true;
    else if (a === '--enable-hot-reload' || a === '-Y') args.hotReload = true;
    else if (a === '-V' || a === '--version') {
      process.stdout.write(`floki ${VERSION}\n`);
      return 0;
    } else if (a === '-h' || a === '--help') {
      process.stdout.write(USAGE);
      return 0;
    } else return fail(`unknown argument '${a}'`);
  }
  return args;
}

function fail(message: string): number {
  process.stderr.write(`floki: ${message}\n${USAGE}`);
  return 2;
}

async function main(): Promise<number | undefined> {
  const args = parseArgs(process.argv.slice(2));
  if (typeof args === 'number') return args;
  const options = args.format ? { format: args.format } : {};
  const loaded = await loadConfigLazily(args.config, registryFor, options);
  if (!loaded.config) {
    process.stderr.write(loaded.problems.map(formatProblem).join('\n') + '\n');
    return 1;
  }
  const config: FlokiConfig = loaded.config;
  if (args.dryRun) {
    for (const w of loaded.warnings) process.stderr.write(`${w.file}:${w.line}: warning: ${w.message}\n`);
    process.stdout.write('config ok\n');
    return 0;
  }
  const floki = new Floki(config, undefined, {
    reader: () => loadConfigLazily(args.config, registryFor, options),
    hotReload: args.hotReload,
    onFatal: () => {
      process.exitCode = 1;
      void floki.stop(0).finally(() => process.exit(1));
    },
  });

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      floki.log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    floki.log.info({ signal, grace_ms: floki.config.service.graceMs }, 'draining before exit');
    floki.stop().then(
      () => process.exit(0),
      (err) => {
        floki.log.error({ err: String(err) }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  // Without a listener SIGHUP would end the process: with hot reload off it is logged and ignored.
  process.on('SIGHUP', () => {
    if (!stopping) floki.reloadOnSignal();
  });

  // Every module is loaded by now; what runs from here on is the pipeline, optimized as usual.
  endStartup();
  // Room for a small old generation to grow in (src/heap-growth.ts).
  startHeapGrowth();
  try {
    await floki.start();
  } catch (err) {
    floki.log.fatal({ err: (err as Error).message }, 'failed to start');
    await floki.stop(0).catch(() => undefined);
    return 1;
  }
  settleAfterStart();
  return undefined;
}

main().then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`floki: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);

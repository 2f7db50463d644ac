#!/usr/bin/env node
import { join } from 'node:path';
import { loadConfigFile } from './config/load.js';
import { ConfigError } from './config/errors.js';
import { PACKAGE_ROOT, VERSION } from './package-root.js';
import { PLUGINS } from './plugins.js';
import { Floki } from './runtime.js';

const USAGE = `usage: floki [-c FILE] [--dry-run] [--version]

  -c, --config FILE   config in Fluent Bit's YAML schema (default: configs/default.yaml)
      --dry-run       validate the config, print 'config ok' or every error, and exit
  -V, --version       print the version and exit
  -h, --help          print this help
`;

interface Args {
  config: string;
  dryRun: boolean;
}

function parseArgs(argv: string[]): Args | number {
  const args: Args = { config: join(PACKAGE_ROOT, 'configs', 'default.yaml'), dryRun: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-c' || a === '--config') {
      const v = argv[++i];
      if (!v) return fail(`${a} needs a file`);
      args.config = v;
    } else if (a.startsWith('--config=')) args.config = a.slice('--config='.length);
    else if (a === '--dry-run') args.dryRun = true;
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
  let floki: Floki;
  try {
    const config = loadConfigFile(args.config, PLUGINS);
    if (args.dryRun) {
      process.stdout.write('config ok\n');
      return 0;
    }
    floki = new Floki(config);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(err.message + '\n');
      return 1;
    }
    throw err;
  }

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

  try {
    await floki.start();
  } catch (err) {
    floki.log.fatal({ err: (err as Error).message }, 'failed to start');
    await floki.stop(0).catch(() => undefined);
    return 1;
  }
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

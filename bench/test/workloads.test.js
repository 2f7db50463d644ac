// The workload table holds together, and every config it writes loads: floki's with `floki --dry-run`
// (from src/, through tsx), Fluent Bit's with `$FLUENT_BIT --dry-run` when FLUENT_BIT names a binary.
// `node --test bench/test/`.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { makeDrivers } from '../lib/drivers.js';
import { FIGURES } from '../lib/report.js';
import { DEFAULT_WORKLOADS, WORKLOADS } from '../workloads/index.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const run = promisify(execFile);
const drivers = makeDrivers({ dataDir: join(ROOT, 'bench', '.data') });

function withContext(fn) {
  const dir = mkdtempSync(join(tmpdir(), 'floki-bench-config-'));
  const ctx = { dir, sinkPort: 3100, httpPort: 2020, inputPort: 24224, ports: {} };
  for (const [i, name] of WORKLOADS.flatMap((w) => w.ports ?? []).entries()) ctx.ports[name] = 40000 + i;
  return fn(ctx).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test('every workload names a driver, a floki config and figures the report knows', () => {
  const names = WORKLOADS.map((w) => w.name);
  assert.equal(new Set(names).size, names.length, 'workload names are unique');
  for (const name of DEFAULT_WORKLOADS) assert.ok(names.includes(name), `default workload ${name} exists`);
  for (const w of WORKLOADS) {
    assert.ok(drivers[w.input], `${w.name}: driver ${w.input}`);
    assert.equal(typeof w.floki, 'function', `${w.name}: floki config`);
    assert.ok(w.reports.length > 0 && w.reports.every((f) => FIGURES[f]), `${w.name}: reports ${w.reports}`);
    if (w.rate !== undefined) assert.ok(w.reports.includes(w.rate), `${w.name}: rate ${w.rate} is reported`);
  }
  for (const name of ['w1-forward-exporter', 'w2-tail-cri', 'idle', 'node-agent', 'parsing']) assert.equal(typeof WORKLOADS.find((w) => w.name === name).fluentBit, 'function', `${name} has a Fluent Bit twin`);
});

test("every floki config passes floki's own validation", () =>
  withContext(async (ctx) => {
    for (const w of WORKLOADS) {
      const file = join(ctx.dir, `${w.name}.yaml`);
      writeFileSync(file, w.floki(ctx));
      const { stdout } = await run(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli.ts'), '--dry-run', '-c', file], { cwd: ROOT }).catch((err) =>
        assert.fail(`${w.name}: ${err.stdout}${err.stderr}`),
      );
      assert.match(stdout, /config ok/, w.name);
    }
  }));

// Only where FLUENT_BIT names a binary (`FLUENT_BIT=/path/to/fluent-bit node --test bench/test/`): a
// user's clone has no Fluent Bit, and `npm test` runs this file without it.
if (process.env.FLUENT_BIT) test('every Fluent Bit config loads in Fluent Bit', () =>
  withContext(async (ctx) => {
    for (const w of WORKLOADS.filter((x) => x.fluentBit)) {
      const file = join(ctx.dir, `${w.name}.fluent-bit.yaml`);
      writeFileSync(file, w.fluentBit(ctx));
      const { stdout, stderr } = await run(process.env.FLUENT_BIT, ['--dry-run', '-c', file]).catch((err) => assert.fail(`${w.name}: ${err.stdout}${err.stderr}`));
      assert.match(stdout + stderr, /configuration test is successful/, w.name);
    }
  }));

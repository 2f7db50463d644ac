/**
 * The stdout output's Fluent Bit formats print what Fluent Bit 5.1.1 prints for the same record, time
 * and options (test/fixtures/stdout: the binary's own output).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { parseOption } from '../../src/config/options.js';
import { StdoutOutput, stdoutOptions } from '../../src/outputs/stdout/index.js';
import { ROOT } from '../helpers/floki-process.js';
import { waitFor } from '../helpers/wait.js';
import { pluginContext } from '../helpers/plugin-context.js';

interface Case {
  record: string;
  time_sec: number;
  time_nsec: number;
  options: Record<string, string>;
  printed: string[];
}

const CASES = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'stdout', 'fluent-bit-5.1.1.json'), 'utf8')) as Case[];

for (const c of CASES) {
  test(`stdout ${JSON.stringify(c.options)} on ${c.record.slice(0, 40)}: as Fluent Bit prints it`, async () => {
    const options: Record<string, unknown> = {};
    for (const spec of stdoutOptions) options[spec.name] = parseOption(spec, c.options[spec.name] ?? spec.default);
    const stream = new PassThrough();
    let text = '';
    stream.setEncoding('utf8').on('data', (d: string) => (text += d));
    const out = new StdoutOutput(options, { ...pluginContext('stdout.0'), setFull: () => {} }, stream);
    await out.start();
    out.write([{ tag: 'dummy.0', time: BigInt(c.time_sec) * 1_000_000_000n + BigInt(c.time_nsec), record: JSON.parse(c.record) as Record<string, unknown> }]);
    await out.stop(1000);
    await waitFor(() => text.endsWith('\n'), 'the line is written');
    assert.deepEqual(text.trimEnd().split('\n'), c.printed);
  });
}

/**
 * Every key Fluent Bit 5.1.1 prints for the plugins floki has (`fluent-bit -i/-F/-o <name> -h`, kept in
 * test/fixtures/fluent-bit-keys/) is known to floki: its own option, a common key, or one it accepts
 * with a warning or refuses by name. None is an "unknown key", so a Fluent Bit config that --dry-run
 * refuses is refused for a reason the user can read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/floki-process.js';
import { PLUGINS } from '../../src/plugins.js';
import { lines, load, writeFiles } from './config-kit.js';

const DIR = join(ROOT, 'test', 'fixtures', 'fluent-bit-keys');
const SECTION = { input: 'INPUT', filter: 'FILTER', output: 'OUTPUT' } as const;

function configWith(kind: keyof typeof SECTION, name: string, key: string): string {
  const plugin = `[${SECTION[kind]}]\n    Name ${name}\n    ${key} 1\n${kind === 'input' ? '' : '    Match *\n'}`;
  return `${kind === 'input' ? '' : '[INPUT]\n    Name dummy\n'}${plugin}${kind === 'output' ? '' : '[OUTPUT]\n    Name stdout\n    Match *\n'}`;
}

for (const file of readdirSync(DIR).filter((f) => f.endsWith('.keys')).sort()) {
  const [kind, name] = file.split('.') as [keyof typeof SECTION, string];
  const keys = readFileSync(join(DIR, file), 'utf8').split('\n').filter((k) => k && k !== 'name' && !k.endsWith('_'));
  test(`every key of Fluent Bit's ${name} ${kind} is known to floki`, (t) => {
    assert.ok(keys.length > 0, `${file} lists no keys`);
    const unknown: string[] = [];
    for (const key of keys) {
      const dir = writeFiles(t, { 'fluent-bit.conf': configWith(kind, name, key) });
      const r = load(join(dir, 'fluent-bit.conf'), PLUGINS);
      const all = lines([...r.problems, ...r.warnings]);
      assert.ok(!all.some((l) => /unknown \w+ plugin/.test(l)), `floki has no ${name} ${kind}: ${all.join('\n')}`);
      if (all.some((l) => l.includes(`unknown key '${key}'`))) unknown.push(key);
    }
    assert.deepEqual(unknown, [], `keys --dry-run calls unknown for ${name}`);
  });
}

test('a Fluent Bit key floki refuses names the key and why', (t) => {
  const dir = writeFiles(t, { 'fluent-bit.conf': configWith('filter', 'kubernetes', 'kube_token_command') });
  const r = load(join(dir, 'fluent-bit.conf'), PLUGINS);
  assert.equal(r.config, undefined);
  assert.match(lines(r.problems).join('\n'), /key 'kube_token_command' is not supported by floki \(give the token in a file/);
});

test('a Fluent Bit key that changes nothing is accepted with a warning', (t) => {
  const dir = writeFiles(t, { 'fluent-bit.conf': configWith('input', 'forward', 'net.backlog') });
  const r = load(join(dir, 'fluent-bit.conf'), PLUGINS);
  assert.ok(r.config, lines(r.problems).join('\n'));
  assert.match(lines(r.warnings).join('\n'), /key 'net.backlog' has no effect in floki/);
});

/**
 * No Docker engine runs on these machines, so the image is checked statically: multi-stage, non-root,
 * a health check on the monitoring endpoint, signals handled by node itself, and every file the image
 * copies from the repository exists.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../src/package-root.js';

const dockerfile = readFileSync(join(PACKAGE_ROOT, 'Dockerfile'), 'utf8');
const instructions = dockerfile
  .replace(/\\\n\s*/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));

test('the image is multi-stage and the final stage runs as a numeric non-root user', () => {
  const froms = instructions.filter((l) => l.startsWith('FROM '));
  assert.ok(froms.length >= 2, 'a build stage and a runtime stage');
  const last = instructions.lastIndexOf(froms.at(-1)!);
  const user = instructions.slice(last).find((l) => l.startsWith('USER '));
  assert.ok(user, 'USER in the final stage');
  const uid = user.split(/\s+/)[1]!.split(':')[0]!;
  assert.match(uid, /^\d+$/, 'numeric, so Kubernetes can verify runAsNonRoot');
  assert.notEqual(uid, '0');
});

test('every COPY from the repository names a file that exists', () => {
  for (const l of instructions.filter((x) => x.startsWith('COPY ') && !x.includes('--from='))) {
    const parts = l.split(/\s+/).slice(1).filter((p) => !p.startsWith('--'));
    for (const src of parts.slice(0, -1)) assert.ok(existsSync(join(PACKAGE_ROOT, src)), `${l}: ${src} exists`);
  }
});

test('node is PID 1 running the built CLI on /etc/floki/floki.yaml, with a health check on /api/v1/health', () => {
  const entrypoint = instructions.find((l) => l.startsWith('ENTRYPOINT '));
  assert.deepEqual(JSON.parse(entrypoint!.slice('ENTRYPOINT '.length)), ['node', 'dist/cli.js']);
  const cmd = instructions.find((l) => l.startsWith('CMD '));
  assert.deepEqual(JSON.parse(cmd!.slice('CMD '.length)), ['-c', '/etc/floki/floki.yaml']);
  assert.ok(instructions.some((l) => /^COPY configs\/floki\.yaml \/etc\/floki\/floki\.yaml$/.test(l)));
  const health = instructions.find((l) => l.startsWith('HEALTHCHECK '));
  assert.match(health!, /127\.0\.0\.1:2020\/api\/v1\/health/);
  // The build's own entry point must exist where ENTRYPOINT expects it.
  const build = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'tsconfig.build.json'), 'utf8')) as { compilerOptions: { rootDir: string; outDir: string } };
  assert.deepEqual([build.compilerOptions.rootDir, build.compilerOptions.outDir], ['src', 'dist']);
  assert.ok(existsSync(join(PACKAGE_ROOT, 'src', 'cli.ts')));
});

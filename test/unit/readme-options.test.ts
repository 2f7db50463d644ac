import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readmeWithDocs } from '../../scripts/plugin-docs.js';
import { PACKAGE_ROOT } from '../../src/package-root.js';

test("README's plugin option tables match the plugins' own tables (run `npm run docs`)", () => {
  const readme = readFileSync(join(PACKAGE_ROOT, 'README.md'), 'utf8');
  assert.equal(readme, readmeWithDocs(readme));
});

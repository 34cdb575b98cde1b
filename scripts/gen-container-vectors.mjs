#!/usr/bin/env node
// @ts-check
// Regenerates dsi-container/vectors/ (or `--out <dir>`) with the test vector generator,
// dsi-container/src/vectors/generate-vectors.ts, which uses the package's public entry points only.
// Runs the BUILT generator: `npx tsc -b dsi-container` first.
//
//   node scripts/gen-container-vectors.mjs [--out <dir>]
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const generator = path.join(root, 'dsi-container', 'dist', 'vectors', 'generate-vectors.js');
if (!existsSync(generator)) {
  process.stderr.write(`gen-container-vectors: ${generator} is missing; run \`npx tsc -b dsi-container\`\n`);
  process.exit(1);
}
const r = spawnSync(process.execPath, [generator, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);

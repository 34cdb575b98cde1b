#!/usr/bin/env node
// @ts-check
// `npm run bench -- <area>`: runs one benchmark area in its own process; results are printed last,
// one JSON object per line: {"metric", "value", "unit", "baseline", "ratio"}.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const areas = {
  network: 'test/dist/bench/network-bench.js',
  ledger: 'test/dist/bench/ledger-bench.js',
  caliper: 'test/dist/bench/caliper-bench.js',
  audit: 'test/dist/bench/audit-bench.js',
  container: 'dsi-container/dist/bench/container.js',
  controller: 'enforce-agent/dist/bench/controller-bench.js',
  agent: 'test/dist/bench/agent-bench.js',
  api: 'test/dist/bench/api-bench.js',
};
const [area, ...rest] = process.argv.slice(2);
if (!area || !(area in areas)) {
  process.stderr.write(`usage: npm run bench -- <area> [options]\nareas: ${Object.keys(areas).join(', ')}\n`);
  process.exit(2);
}
const script = join(root, areas[area]);
if (!existsSync(script)) {
  process.stderr.write(
    `bench: ${areas[area]} is missing: the ${area} benchmark is not built (run \`npm run build\`)\n`,
  );
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--expose-gc', script, ...rest], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);

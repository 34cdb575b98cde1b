#!/usr/bin/env node
// @ts-check
// Runs the whole suite: unit tests of every workspace, then the integration suite against a real Fabric
// network that the suite starts on its own ports and always stops. Ends with one line for the whole run:
// `N passed, N failed, N skipped`. Usage: run-tests.mjs [--unit | --integration] [mocha args…]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const only = args.find((a) => a === '--unit' || a === '--integration');
const extra = args.filter((a) => a !== only);

const unitWorkspaces = [
  'ledger-model',
  'rules',
  'dsi-container',
  'chaincode',
  'network',
  'ledger-client',
  'scenario',
  'test-support',
  'gcode',
  'enforce-agent',
  'key-release',
  'gateway',
  'auditor',
  'cli',
];

function testFiles(dir) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...testFiles(path));
    else if (entry.endsWith('.test.js')) out.push(path);
  }
  return out.sort();
}

function mocha(name, files, mochaArgs, env = {}) {
  if (files.length === 0) {
    process.stderr.write(`[tests] ${name}: no test files found\n`);
    return { passes: 0, failures: 1, pending: 0, exit: 1 };
  }
  const statsDir = mkdtempSync(join(tmpdir(), 'threadseal-stats-'));
  const statsFile = join(statsDir, 'stats.json');
  process.stderr.write(`\n[tests] ${name}: ${files.length} file(s)\n`);
  const r = spawnSync(
    process.execPath,
    [
      join(root, 'node_modules', 'mocha', 'bin', 'mocha.js'),
      '--reporter',
      join(root, 'scripts', 'mocha-stats-reporter.cjs'),
      '--forbid-only',
      ...mochaArgs,
      ...extra,
      ...files.map((f) => relative(root, f)),
    ],
    { cwd: root, stdio: 'inherit', env: { ...process.env, ...env, THREADSEAL_STATS_FILE: statsFile } },
  );
  let stats = { passes: 0, failures: 0, pending: 0 };
  if (existsSync(statsFile)) stats = JSON.parse(readFileSync(statsFile, 'utf8'));
  rmSync(statsDir, { recursive: true, force: true });
  // A mocha that died without reporting counts as one failure, so a crash can never read as green.
  const crashed = r.status !== 0 && stats.failures === 0;
  return { ...stats, failures: stats.failures + (crashed ? 1 : 0), exit: r.status ?? 1 };
}

const results = [];
const started = Date.now();
if (only !== '--integration') {
  // dist-test/: a workspace whose tests are built apart from its deployable dist/ (the chaincode).
  const files = unitWorkspaces.flatMap((w) => [
    ...testFiles(join(root, w, 'dist')),
    ...testFiles(join(root, w, 'dist-test')),
  ]);
  // test/src/repository: checks of the repository itself (import boundaries), no network needed.
  files.push(...testFiles(join(root, 'test', 'dist', 'repository')));
  results.push(mocha('unit', files, ['--timeout', '120000']));
}
if (only !== '--unit') {
  const stateDir = join(root, '.threadseal', 'test');
  // `*.after-suite.test.js` files look at what the whole suite left on the ledger, so they run last.
  const afterSuite = (f) => f.endsWith('.after-suite.test.js');
  const all = testFiles(join(root, 'test', 'dist')).filter(
    (f) => !f.includes(join('dist', 'fixtures')) && !f.includes(join('dist', 'repository')),
  );
  const files = [...all.filter((f) => !afterSuite(f)), ...all.filter(afterSuite)];
  try {
    results.push(
      mocha(
        'integration (real Fabric network)',
        files,
        [
          '--require',
          join(root, 'test', 'dist', 'fixtures', 'network-fixture.js'),
          '--timeout',
          '180000',
          '--exit',
        ],
        { THREADSEAL_TEST_STATE_DIR: stateDir },
      ),
    );
  } finally {
    // Backstop: whatever happened inside mocha, no process of the test network outlives the run.
    spawnSync(
      process.execPath,
      [join(root, 'cli', 'bin', 'threadseal.js'), 'network', 'down', '--state-dir', stateDir],
      {
        stdio: 'inherit',
      },
    );
  }
}
const total = results.reduce(
  (acc, r) => ({
    passes: acc.passes + r.passes,
    failures: acc.failures + r.failures,
    pending: acc.pending + r.pending,
  }),
  { passes: 0, failures: 0, pending: 0 },
);
const failed = total.failures > 0 || total.passes === 0 || results.some((r) => r.exit !== 0);
process.stdout.write(`\n[tests] whole suite in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
process.stdout.write(`${total.passes} passed, ${total.failures} failed, ${total.pending} skipped\n`);
process.exit(failed ? 1 : 0);

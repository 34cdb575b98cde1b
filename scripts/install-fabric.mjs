#!/usr/bin/env node
// @ts-check
// Builds the pinned Hyperledger Fabric and Fabric CA binaries from the Go module proxy into .fabric/bin
// and copies the release configuration (core.yaml, orderer.yaml, configtx.yaml) from the module's
// sampleconfig/ into .fabric/config. Idempotent: when .fabric/install.json matches the pins and every
// binary answers `version`, it returns at once. Plain Node (no dependencies): it runs before `npm install`.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const fabricDir = join(root, '.fabric');
const binDir = join(fabricDir, 'bin');
const configDir = join(fabricDir, 'config');
const stampFile = join(fabricDir, 'install.json');
const pinsFile = join(root, 'network', 'fabric-release.json');

const log = (msg) => process.stderr.write(`[install-fabric] ${msg}\n`);
class InstallError extends Error {}

function readJson(file) {
  return JSON.parse(readFileSync(file, 'utf8'));
}

function pinsDigest(pins) {
  return createHash('sha256').update(JSON.stringify(pins)).digest('hex').slice(0, 16);
}

/** True when the stamp matches the pins and every binary runs. */
function alreadyInstalled(pins) {
  if (!existsSync(stampFile)) return false;
  let stamp;
  try {
    stamp = readJson(stampFile);
  } catch {
    return false;
  }
  if (stamp.pinsDigest !== pinsDigest(pins)) return false;
  for (const cmd of [...pins.fabricCommands, ...pins.fabricCa.commands]) {
    // osnadmin has no version command; `--help` proves the binary runs.
    const r = spawnSync(join(binDir, cmd), [cmd === 'osnadmin' ? '--help' : 'version'], { encoding: 'utf8' });
    if (r.status !== 0) return false;
  }
  for (const file of ['core.yaml', 'orderer.yaml', 'configtx.yaml']) {
    if (!existsSync(join(configDir, file))) return false;
  }
  const v = spawnSync(join(binDir, 'peer'), ['version'], { encoding: 'utf8' });
  return v.stdout.includes(`Version: ${stamp.fabric.release}`);
}

function requireGo() {
  const r = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new InstallError(
      'Go is not installed or not on PATH: install Go >= 1.22 (Debian: `apt-get install golang`, or the archive from go.dev/dl) ' +
        'and re-run; on a machine with internet you may instead unpack the official Fabric v3.1.5 and Fabric CA v1.5.21 ' +
        'release archives so that .fabric/bin holds peer, orderer, configtxgen, configtxlator, osnadmin, fabric-ca-server ' +
        'and fabric-ca-client and .fabric/config holds core.yaml, orderer.yaml and configtx.yaml.',
    );
  }
  return r.stdout.trim();
}

/** Runs `go …`, streaming its progress lines; resolves to its combined output, rejects on failure. */
function go(args, cwd, env = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn('go', args, { cwd, env: { ...process.env, GOFLAGS: '-mod=mod', ...env } });
    let output = '';
    const onData = (chunk) => {
      const text = chunk.toString();
      output += text;
      for (const line of text.split('\n')) if (line.trim()) log(`  go: ${line.replace(/^go: /, '')}`);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve(output)
        : reject(new InstallError(output.trim().split('\n').slice(-3).join(' | '))),
    );
  });
}

function writeBuildModule(dir, module, moduleVersion, packages) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'go.mod'),
    `module threadseal.local/build\n\ngo 1.22\n\nrequire ${module} ${moduleVersion}\n`,
  );
  // A tools file keeps the commands' packages in the module graph so `go mod tidy` resolves their dependencies.
  const imports = packages.map((p) => `\t_ "${p}"`).join('\n');
  writeFileSync(join(dir, 'tools.go'), `//go:build tools\n\npackage tools\n\nimport (\n${imports}\n)\n`);
}

async function buildFabric(pins) {
  const failures = [];
  for (const pin of pins.fabric) {
    log(`Fabric ${pin.release} (${pin.module}@${pin.moduleVersion})`);
    const dir = join(fabricDir, 'build', 'fabric');
    const packages = pins.fabricCommands.map((c) => `${pin.module}/cmd/${c}`);
    writeBuildModule(dir, pin.module, pin.moduleVersion, packages);
    const probe = spawnSync('go', ['mod', 'download', '-json', `${pin.module}@${pin.moduleVersion}`], {
      cwd: dir,
      encoding: 'utf8',
    });
    if (probe.status !== 0) {
      let reason = probe.stderr.trim() || probe.stdout.trim();
      try {
        reason = JSON.parse(probe.stdout).Error ?? reason;
      } catch {
        // not JSON: keep the raw text
      }
      log(`  not available from the Go module proxy: ${reason.split('\n')[0]}`);
      failures.push(`${pin.release} (${pin.commit.slice(0, 12)}): ${reason.split('\n')[0]}`);
      continue;
    }
    await go(['mod', 'tidy'], dir);
    const ldflags = [
      `-X ${pin.module}/common/metadata.Version=${pin.release}`,
      `-X ${pin.module}/common/metadata.CommitSHA=${pin.commit.slice(0, 12)}`,
    ].join(' ');
    log(
      `  building ${pins.fabricCommands.join(', ')} (first build takes a few minutes; later builds reuse the Go build cache)`,
    );
    await go(['build', '-trimpath', '-ldflags', ldflags, '-o', binDir + '/', ...packages], dir);
    const moduleDir = spawnSync('go', ['list', '-m', '-f', '{{.Dir}}', pin.module], {
      cwd: dir,
      encoding: 'utf8',
    })
      .stdout.trim()
      .split('\n')
      .pop();
    if (!moduleDir) throw new InstallError(`cannot locate ${pin.module} in the module cache`);
    mkdirSync(configDir, { recursive: true });
    for (const file of ['core.yaml', 'orderer.yaml', 'configtx.yaml']) {
      copyFileSync(join(moduleDir, 'sampleconfig', file), join(configDir, file));
    }
    if (pin !== pins.fabric[0]) {
      log(
        `WARNING: built Fabric ${pin.release} because the preferred pin was not available (${failures.join('; ')})`,
      );
    }
    return { pin, failures };
  }
  throw new InstallError(
    `no pinned Fabric build could be fetched from the Go module proxy: ${failures.join('; ')}`,
  );
}

async function buildFabricCa(pins) {
  const ca = pins.fabricCa;
  log(`Fabric CA ${ca.release} (${ca.module}@${ca.moduleVersion})`);
  const dir = join(fabricDir, 'build', 'fabric-ca');
  const packages = ca.commands.map((c) => `${ca.module}/cmd/${c}`);
  writeBuildModule(dir, ca.module, ca.moduleVersion, packages);
  await go(['mod', 'tidy'], dir);
  log(`  building ${ca.commands.join(', ')} (cgo, for SQLite)`);
  const ldflags = `-X ${ca.module}/lib/metadata.Version=${ca.release}`;
  await go(['build', '-trimpath', '-ldflags', ldflags, '-o', binDir + '/', ...packages], dir, {
    CGO_ENABLED: '1',
  });
}

async function main() {
  const started = Date.now();
  const pins = readJson(pinsFile);
  if (!process.argv.includes('--force') && alreadyInstalled(pins)) {
    const stamp = readJson(stampFile);
    log(
      `Fabric ${stamp.fabric.release} and Fabric CA ${stamp.fabricCa.release} already installed in .fabric/bin`,
    );
    return;
  }
  const goVersion = requireGo();
  log(`installing Fabric binaries into .fabric/bin with ${goVersion}`);
  mkdirSync(binDir, { recursive: true });
  const { pin, failures } = await buildFabric(pins);
  await buildFabricCa(pins);
  const stamp = {
    pinsDigest: pinsDigest(pins),
    fabric: pin,
    fabricCa: pins.fabricCa,
    unavailablePins: failures,
    go: goVersion,
    installedAt: new Date().toISOString(),
    seconds: Math.round((Date.now() - started) / 1000),
  };
  writeFileSync(stampFile, JSON.stringify(stamp, null, 2) + '\n');
  if (!alreadyInstalled(pins)) throw new InstallError('binaries were built but do not answer `version`');
  log(`done in ${stamp.seconds} s: Fabric ${pin.release}, Fabric CA ${pins.fabricCa.release}`);
}

main().catch((err) => {
  process.stderr.write(`install-fabric: ${err instanceof InstallError ? err.message : err.stack}\n`);
  process.exit(1);
});

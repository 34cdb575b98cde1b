/**
 * Installs Hyperledger Caliper into its own git-ignored folder (`.bench/caliper/`, its own package.json
 * and lock), never into the product's dependencies: Caliper 0.6 pulls in some 600 packages (web3, ssh2,
 * docker clients, …) that no threadseal workspace needs. Idempotent: skipped when that exact version is
 * installed and bound.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const CALIPER_VERSION = '0.6.0';
/** Caliper 0.6's binding for the Fabric peer gateway (installs @hyperledger/fabric-gateway 1.5 and @grpc/grpc-js). */
export const CALIPER_SUT = 'fabric:fabric-gateway';

/** Where Caliper lives and how to start its CLI. */
export interface CaliperInstall {
  readonly dir: string;
  /** `caliper` CLI entry point, run with this Node. */
  readonly cli: string;
}

interface InstalledMark {
  readonly caliper: string;
  readonly sut: string;
}

function installedVersion(dir: string, pkg: string): string | undefined {
  const file = join(dir, 'node_modules', pkg, 'package.json');
  if (!existsSync(file)) return undefined;
  return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version;
}

function run(dir: string, command: string, args: readonly string[]): void {
  // npm's and Caliper's output go to stderr: stdout carries only the result lines.
  const r = spawnSync(command, args, { cwd: dir, stdio: ['ignore', 2, 2] });
  if (r.status !== 0) {
    throw new Error(
      `caliper install: \`${command} ${args.join(' ')}\` in ${dir} exited with ${r.status ?? r.signal}`,
    );
  }
}

/** Makes sure Caliper `CALIPER_VERSION` bound to `CALIPER_SUT` is installed in `dir`. */
export function ensureCaliper(dir: string, log: (line: string) => void): CaliperInstall {
  const cli = join(dir, 'node_modules', '@hyperledger', 'caliper-cli', 'caliper.js');
  const markFile = join(dir, 'installed.json');
  const mark = existsSync(markFile)
    ? (JSON.parse(readFileSync(markFile, 'utf8')) as InstalledMark)
    : undefined;
  if (
    mark?.caliper === CALIPER_VERSION &&
    mark.sut === CALIPER_SUT &&
    installedVersion(dir, '@hyperledger/caliper-cli') === CALIPER_VERSION &&
    installedVersion(dir, '@hyperledger/fabric-gateway') !== undefined
  ) {
    log(`caliper ${CALIPER_VERSION} (${CALIPER_SUT}) already installed in ${dir}`);
    return { dir, cli };
  }
  log(`installing caliper ${CALIPER_VERSION} into ${dir} and binding ${CALIPER_SUT}`);
  mkdirSync(dir, { recursive: true });
  const manifest = join(dir, 'package.json');
  if (!existsSync(manifest)) {
    const pkg = {
      name: 'threadseal-bench-caliper',
      private: true,
      description:
        'Hyperledger Caliper for `npm run bench -- caliper`; installed by the benchmark, not a product dependency.',
      dependencies: {},
    };
    writeFileSync(manifest, JSON.stringify(pkg, null, 2) + '\n');
  }
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  run(dir, npm, [
    'install',
    '--no-audit',
    '--no-fund',
    '--save-exact',
    `@hyperledger/caliper-cli@${CALIPER_VERSION}`,
  ]);
  run(dir, process.execPath, [cli, 'bind', '--caliper-bind-sut', CALIPER_SUT]);
  writeFileSync(
    markFile,
    JSON.stringify({ caliper: CALIPER_VERSION, sut: CALIPER_SUT } satisfies InstalledMark) + '\n',
  );
  return { dir, cli };
}

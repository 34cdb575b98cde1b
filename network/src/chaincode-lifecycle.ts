import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  realpathSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { dirname, join, relative } from 'node:path';
import { NetworkError } from './errors';
import { waitFor } from './health';
import { chaincodeServerTls } from './identities';
import { ordererFlags, peerCli } from './peer-cli';
import { isAlive, readProcesses, startProcess, stopProcesses, type ProcessRecord } from './processes';
import type { NetworkPlan, PeerNode } from './plan';
import { tarGz } from './tar';

/** The chaincode build a deployment is made of, identified by the digest of its code and definition files. */
export interface ChaincodeBuild {
  readonly name: string;
  readonly dir: string;
  readonly label: string;
  readonly signaturePolicy?: string;
  readonly collectionsConfig?: string;
}

/** What a deployment did, for the CLI and the benchmark. */
export interface DeployResult {
  readonly label: string;
  readonly sequence: number;
  readonly committed: boolean;
  readonly restartedServers: number;
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...listFiles(path));
    else out.push(path);
  }
  return out.sort();
}

/** Files of the chaincode folder that define the deployment besides the code. */
const DEFINITION_FILES = ['package.json', 'deployment.json', 'collections.json'] as const;

/** What of a built file is not code the chaincode server runs: source maps, declarations, build info, tests. */
const NOT_DEPLOYED = /(\.map|\.d\.ts|\.tsbuildinfo|\.test\.js)$/;

/** Built files of a workspace that reach a running chaincode: `dist/` without tests, maps and declarations. */
function runtimeFiles(dir: string): string[] {
  const dist = join(dir, 'dist');
  return existsSync(dist) ? listFiles(dist).filter((f) => !NOT_DEPLOYED.test(f)) : [];
}

/**
 * The files whose bytes make the chaincode label, relative to the chaincode folder and sorted: the deployable
 * build in `dist/` (its tests build to `dist-test/`, which is not read) and the definition files present.
 */
export function chaincodePackageFiles(dir: string): string[] {
  const definitions = DEFINITION_FILES.map((f) => join(dir, f)).filter(existsSync);
  return [...runtimeFiles(dir), ...definitions].map((f) => relative(dir, f));
}

/** The folder npm linked a package into, looked up from `dir` upwards like Node's resolution. */
function packageDir(name: string, dir: string): string | undefined {
  for (let at = dir; ; at = dirname(at)) {
    const candidate = join(at, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
    if (dirname(at) === at) return undefined;
  }
}

/**
 * The repository's own workspaces the chaincode runs with (`@threadseal/*` dependencies, transitively), by
 * package name. The chaincode server loads them from the repository through npm's links, so their built
 * code is part of what a label must identify.
 */
function workspaceDependencies(dir: string): Map<string, string> {
  const found = new Map<string, string>();
  const visit = (from: string): void => {
    const manifest = JSON.parse(readFileSync(join(from, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    for (const name of Object.keys(manifest.dependencies ?? {}).sort()) {
      if (!name.startsWith('@threadseal/') || found.has(name)) continue;
      const depDir = packageDir(name, from);
      if (depDir === undefined)
        throw new NetworkError(
          'CHAINCODE_BUILD_FAILED',
          `chaincode dependency ${name} is not installed: run \`npm install\``,
        );
      found.set(name, depDir);
      visit(depDir);
    }
  };
  visit(dir);
  return new Map([...found].sort(([a], [b]) => (a < b ? -1 : 1)));
}

/**
 * `<name>_<first 12 hex of a SHA-256>` over each package file's path and bytes and over the built code and
 * manifest of every workspace the chaincode depends on (`@threadseal/rules`, `@threadseal/ledger-model`):
 * changes with any of them, and with nothing else (tests, source maps and declarations do not count).
 */
export function chaincodeLabel(name: string, dir: string): string {
  const hash = createHash('sha256');
  for (const file of chaincodePackageFiles(dir)) {
    hash
      .update(file)
      .update('\0')
      .update(readFileSync(join(dir, file)));
  }
  for (const [dependency, depDir] of workspaceDependencies(dir)) {
    for (const file of [...runtimeFiles(depDir), join(depDir, 'package.json')]) {
      hash
        .update(`${dependency}/${relative(depDir, file)}`)
        .update('\0')
        .update(readFileSync(file));
    }
  }
  return `${name}_${hash.digest('hex').slice(0, 12)}`;
}

/** Reads the chaincode workspace: its built code must exist; the label is {@link chaincodeLabel}. */
export function readChaincodeBuild(plan: NetworkPlan): ChaincodeBuild {
  const { name, path } = plan.description.chaincode;
  const dir = join(plan.repoRoot, path);
  const dist = join(dir, 'dist');
  if (!existsSync(join(dist, 'index.js'))) {
    throw new NetworkError(
      'CHAINCODE_BUILD_FAILED',
      `chaincode is not built (${join(dist, 'index.js')} missing): run \`npm run build\``,
    );
  }
  let signaturePolicy: string | undefined;
  const deployment = join(dir, 'deployment.json');
  if (existsSync(deployment)) {
    const parsed = JSON.parse(readFileSync(deployment, 'utf8')) as { signaturePolicy?: unknown };
    if (parsed.signaturePolicy !== undefined) {
      if (typeof parsed.signaturePolicy !== 'string') {
        throw new NetworkError('CHAINCODE_BUILD_FAILED', `${deployment}: signaturePolicy must be a string`);
      }
      signaturePolicy = parsed.signaturePolicy;
    }
  }
  const collections = join(dir, 'collections.json');
  return {
    name,
    dir,
    label: chaincodeLabel(name, dir),
    ...(signaturePolicy ? { signaturePolicy } : {}),
    ...(existsSync(collections) ? { collectionsConfig: collections } : {}),
  };
}

/** Builds the ccaas package for one peer (its connection.json points at that org's chaincode server). */
function writePackage(
  plan: NetworkPlan,
  peer: PeerNode,
  build: ChaincodeBuild,
): { file: string; packageId: string } {
  const tls = chaincodeServerTls(peer);
  const connection = {
    address: `${peer.host}:${peer.ccaasPort}`,
    dial_timeout: '10s',
    tls_required: true,
    client_auth_required: false,
    root_cert: readFileSync(tls.ca, 'utf8'),
  };
  const code = tarGz([
    { name: 'connection.json', content: Buffer.from(JSON.stringify(connection, null, 2)) },
  ]);
  const pkg = tarGz([
    { name: 'metadata.json', content: Buffer.from(JSON.stringify({ type: 'ccaas', label: build.label })) },
    { name: 'code.tar.gz', content: code },
  ]);
  const dir = join(plan.chaincodeDir, peer.id);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${build.label}.tar.gz`);
  writeFileSync(file, pkg);
  return { file, packageId: `${build.label}:${createHash('sha256').update(pkg).digest('hex')}` };
}

async function installIfMissing(
  plan: NetworkPlan,
  peer: PeerNode,
  file: string,
  packageId: string,
): Promise<void> {
  const installed = await peerCli(
    plan,
    peer,
    ['lifecycle', 'chaincode', 'queryinstalled', '-O', 'json'],
    'queryinstalled',
  );
  if (installed.includes(packageId)) return;
  await peerCli(plan, peer, ['lifecycle', 'chaincode', 'install', file], 'chaincode install');
}

function tcpReady(host: string, port: number): Promise<true | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host, port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => {
      resolve(undefined);
    });
  });
}

const serverName = (peer: PeerNode): string => `chaincode.${peer.id}`;

/**
 * Starts the org's chaincode server (fabric-chaincode-node server, under the restarting supervisor) for
 * `packageId`, replacing a running one that serves another package. Returns true when it (re)started.
 */
async function ensureServer(
  plan: NetworkPlan,
  peer: PeerNode,
  build: ChaincodeBuild,
  packageId: string,
): Promise<boolean> {
  const name = serverName(peer);
  const idFile = join(plan.chaincodeDir, peer.id, 'running-package-id');
  const current = readProcesses(plan.stateDir).find((r) => r.name === name);
  if (current && isAlive(current.pid) && existsSync(idFile) && readFileSync(idFile, 'utf8') === packageId)
    return false;
  if (current) await stopProcesses(plan.stateDir, [name]);
  await startServer(plan, peer, build.dir, packageId);
  writeFileSync(idFile, packageId);
  return true;
}

/** The package id the peer's chaincode server was started for (its installed, approved package). */
function installedPackageId(plan: NetworkPlan, peer: PeerNode): string {
  const idFile = join(plan.chaincodeDir, peer.id, 'running-package-id');
  if (!existsSync(idFile))
    throw new NetworkError(
      'CHAINCODE_BUILD_FAILED',
      `${peer.id} has no deployed chaincode server to replace`,
    );
  return readFileSync(idFile, 'utf8').replace(/ rogue:.*$/, '');
}

/**
 * Replaces one org peer's chaincode server with other code for the same definition and package id — what an
 * org's administrator can always do to its own peer (Fabric lets each org run its own package). `moduleDir` is
 * a fabric-contract-api module (package.json `main`). Used by the rogue-peer suite; {@link deployChaincode}
 * and {@link restoreChaincodeServer} put the honest server back.
 */
export async function replaceChaincodeServer(
  plan: NetworkPlan,
  peerId: string,
  moduleDir: string,
): Promise<void> {
  const peer = plan.peers.find((p) => p.id === peerId);
  if (!peer) throw new NetworkError('INVALID_DESCRIPTION', `no peer ${peerId} in the description`);
  const packageId = installedPackageId(plan, peer);
  await stopProcesses(plan.stateDir, [serverName(peer)]);
  // Marked so that an honest deployment sees a server it must restart.
  writeFileSync(join(plan.chaincodeDir, peer.id, 'running-package-id'), `${packageId} rogue:${moduleDir}`);
  await startServer(plan, peer, moduleDir, packageId);
  await answers(plan, peer);
}

/** Waits until the peer reaches its (new) chaincode server: `system:Ping` answers `pong` through the peer. */
async function answers(plan: NetworkPlan, peer: PeerNode): Promise<void> {
  const name = plan.description.chaincode.name;
  await waitFor(() => pings(plan, peer, name), {
    what: `chaincode ${name} to answer on ${peer.id}`,
    timeoutMs: 60_000,
    intervalMs: 250,
  });
}

/** Puts the honest chaincode server of the deployed build back on one peer (after {@link replaceChaincodeServer}). */
export async function restoreChaincodeServer(plan: NetworkPlan, peerId: string): Promise<void> {
  const peer = plan.peers.find((p) => p.id === peerId);
  if (!peer) throw new NetworkError('INVALID_DESCRIPTION', `no peer ${peerId} in the description`);
  const packageId = installedPackageId(plan, peer);
  await stopProcesses(plan.stateDir, [serverName(peer)]);
  await startServer(plan, peer, readChaincodeBuild(plan).dir, packageId);
  writeFileSync(join(plan.chaincodeDir, peer.id, 'running-package-id'), packageId);
  await answers(plan, peer);
}

/** Starts the chaincode server process of `peer` running the module in `moduleDir` and waits until it listens. */
async function startServer(
  plan: NetworkPlan,
  peer: PeerNode,
  moduleDir: string,
  packageId: string,
): Promise<void> {
  const name = serverName(peer);
  const tls = chaincodeServerTls(peer);
  let shimCli: string;
  try {
    shimCli = require.resolve('fabric-shim/cli.js', { paths: [moduleDir] });
  } catch {
    throw new NetworkError(
      'CHAINCODE_BUILD_FAILED',
      'fabric-shim is not installed for the chaincode: run `npm install`',
    );
  }
  const record = startProcess({
    name,
    kind: 'chaincode',
    command: process.execPath,
    args: [
      join(__dirname, 'chaincode-supervisor.js'),
      process.execPath,
      shimCli,
      'server',
      '--chaincode-address',
      `${peer.host}:${peer.ccaasPort}`,
      '--chaincode-id',
      packageId,
      '--chaincode-tls-cert-file',
      tls.cert,
      '--chaincode-tls-key-file',
      tls.key,
      '--module-path',
      moduleDir,
    ],
    env: {
      CORE_PEER_LOCALMSPID: peer.mspId,
      CHAINCODE_ID: packageId,
      // fabric-shim logs two INFO lines per transaction; refusals still log as errors.
      CORE_CHAINCODE_LOGGING_LEVEL: 'warning',
      CORE_CHAINCODE_LOGGING_SHIM: 'warning',
    },
    cwd: moduleDir,
    logsDir: plan.logsDir,
    stateDir: plan.stateDir,
  });
  await waitFor(() => tcpReady(peer.host, peer.ccaasPort), {
    what: `chaincode server of ${peer.id} on port ${peer.ccaasPort}`,
    timeoutMs: 30_000,
    process: record,
  }).catch((err: unknown) => {
    throw new NetworkError(
      'CHAINCODE_BUILD_FAILED',
      `chaincode server for ${peer.id} did not start: ${(err as Error).message}`,
      (err as NetworkError).details,
    );
  });
}

interface CommittedDefinition {
  readonly sequence: number;
  readonly version: string;
}

async function queryCommitted(
  plan: NetworkPlan,
  peer: PeerNode,
  name: string,
): Promise<CommittedDefinition | undefined> {
  try {
    const out = await peerCli(
      plan,
      peer,
      [
        'lifecycle',
        'chaincode',
        'querycommitted',
        '-C',
        plan.description.channel.name,
        '-n',
        name,
        '-O',
        'json',
      ],
      'querycommitted',
    );
    const parsed = JSON.parse(out) as { sequence: number; version: string };
    return { sequence: parsed.sequence, version: parsed.version };
  } catch {
    return undefined;
  }
}

function definitionFlags(plan: NetworkPlan, build: ChaincodeBuild, sequence: number): string[] {
  return [
    '--channelID',
    plan.description.channel.name,
    '--name',
    build.name,
    '--version',
    build.label,
    '--sequence',
    String(sequence),
    ...(build.signaturePolicy ? ['--signature-policy', build.signaturePolicy] : []),
    ...(build.collectionsConfig ? ['--collections-config', build.collectionsConfig] : []),
  ];
}

/** Evaluates system:Ping on a peer through the peer CLI; resolves true once the chaincode answers. */
async function pings(plan: NetworkPlan, peer: PeerNode, name: string): Promise<true | undefined> {
  try {
    const out = await peerCli(
      plan,
      peer,
      [
        'chaincode',
        'query',
        '-C',
        plan.description.channel.name,
        '-n',
        name,
        '-c',
        '{"Args":["system:Ping"]}',
      ],
      'chaincode ping',
    );
    return out.trim() === 'pong' ? true : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The whole chaincode lifecycle, idempotent and re-runnable after a code change: package (ccaas) →
 * install on every peer → start each org's chaincode server → approve by every org → commit → wait
 * until every peer's chaincode answers. An unchanged build only makes sure the servers run.
 */
export async function deployChaincode(plan: NetworkPlan, log: (line: string) => void): Promise<DeployResult> {
  const build = readChaincodeBuild(plan);
  const packages = plan.peers.map((peer) => ({ peer, ...writePackage(plan, peer, build) }));
  await Promise.all(packages.map((p) => installIfMissing(plan, p.peer, p.file, p.packageId)));
  let restartedServers = 0;
  for (const p of packages) if (await ensureServer(plan, p.peer, build, p.packageId)) restartedServers++;
  const first = plan.peers[0];
  if (!first) throw new NetworkError('INVALID_DESCRIPTION', 'the description has no peer');
  const committed = await queryCommitted(plan, first, build.name);
  let sequence = committed?.sequence ?? 0;
  const changed = committed?.version !== build.label;
  if (changed) {
    sequence += 1;
    log(`chaincode ${build.label}: approving sequence ${sequence} by ${plan.orgs.length} orgs`);
    await Promise.all(
      packages.map((p) =>
        peerCli(
          plan,
          p.peer,
          [
            'lifecycle',
            'chaincode',
            'approveformyorg',
            ...ordererFlags(plan),
            ...definitionFlags(plan, build, sequence),
            '--package-id',
            p.packageId,
          ],
          'approveformyorg',
        ),
      ),
    );
    const peerFlags = plan.peers.flatMap((p) => {
      const org = plan.orgs.find((o) => o.name === p.org);
      return ['--peerAddresses', `${p.host}:${p.port}`, '--tlsRootCertFiles', org ? org.tlsCaCert : ''];
    });
    await peerCli(
      plan,
      first,
      [
        'lifecycle',
        'chaincode',
        'commit',
        ...ordererFlags(plan),
        ...definitionFlags(plan, build, sequence),
        ...peerFlags,
      ],
      'chaincode commit',
    );
  }
  const servers = readProcesses(plan.stateDir);
  await Promise.all(
    plan.peers.map((peer) => {
      const proc: ProcessRecord | undefined = servers.find((r) => r.name === serverName(peer));
      return waitFor(() => pings(plan, peer, build.name), {
        what: `chaincode ${build.name} to answer on ${peer.id}`,
        timeoutMs: 60_000,
        intervalMs: 250,
        ...(proc ? { process: proc } : {}),
      });
    }),
  );
  return { label: build.label, sequence, committed: changed, restartedServers };
}

import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { join, resolve } from 'node:path';
// The profile's shape is declared once, by the client that reads it; a type-only import, nothing at runtime.
import type { ConnectionProfile } from '@threadseal/ledger-client';
import { createGenesisBlock, joinOrderers, joinPeers, waitForGossip, waitForRaftLeader } from './channel';
import {
  deployChaincode,
  replaceChaincodeServer,
  restoreChaincodeServer,
  type DeployResult,
} from './chaincode-lifecycle';
import { commonConnectionProfile, commonConnectionProfileFile } from './common-connection-profile';
import { writeConfigtx, writeOrdererConfig, writePeerConfig } from './configs';
import { loadDescription } from './description';
import { connectionFileIn, defaultStateDir, descriptionFile, repoRoot } from './locations';
import { NetworkError } from './errors';
import { assertPortFree, httpGet, waitFor, waitHealthy } from './health';
import { bootstrapSecret, enrollOrg, OrgCa, type IdentityFiles } from './identities';
import {
  identityDir,
  planNetwork,
  type CaNode,
  type NetworkPlan,
  type OrdererNode,
  type PeerNode,
} from './plan';
import {
  isAlive,
  readProcesses,
  startProcess,
  stopProcesses,
  tailLog,
  type ProcessRecord,
} from './processes';
import { ThreadsealError } from '@threadseal/ledger-model';

/** How to find a network: its description, where its state lives, and which ports it takes. */
export interface NetworkOptions {
  /** Description file; defaults to `network/profiles/reference.yaml`. */
  readonly profile?: string;
  /** State directory (crypto material, ledgers, logs, pids); defaults to `.threadseal/<profile name>`. */
  readonly stateDir?: string;
  /** First port handed out; defaults to the description's `basePort`. */
  readonly basePort?: number;
  /** Progress lines (stderr in the CLI). */
  readonly log?: (line: string) => void;
}

/** Health of one node process. */
export interface NodeStatus {
  readonly name: string;
  readonly kind: ProcessRecord['kind'];
  readonly pid: number;
  readonly alive: boolean;
  readonly healthy: boolean;
  readonly detail: string;
  readonly logFile: string;
}

/** Result of `up`: what it did, and how long each stage took. */
export interface UpResult {
  readonly alreadyRunning: boolean;
  readonly fresh: boolean;
  readonly totalMs: number;
  readonly stages: readonly { readonly stage: string; readonly ms: number }[];
  readonly chaincode?: DeployResult;
}

export { repoRoot } from './locations';

/** A native Fabric network (CAs, Raft orderers, peers, chaincode servers) generated from a description. */
export class FabricNetwork {
  readonly plan: NetworkPlan;
  readonly #log: (line: string) => void;

  private constructor(plan: NetworkPlan, log: (line: string) => void) {
    this.plan = plan;
    this.#log = log;
  }

  /** Loads and validates the description and resolves ports and folders; starts nothing. */
  static open(options: NetworkOptions = {}): FabricNetwork {
    const description = loadDescription(descriptionFile(options.profile));
    const stateDir = resolve(options.stateDir ?? defaultStateDir(description.name));
    const plan = planNetwork(description, {
      stateDir,
      repoRoot: repoRoot(),
      ...(options.basePort !== undefined ? { basePort: options.basePort } : {}),
    });
    return new FabricNetwork(plan, options.log ?? (() => undefined));
  }

  get connectionFile(): string {
    return connectionFileIn(this.plan.stateDir);
  }

  /** The Fabric common connection profile of a peer org (`connection-<org>.json`), for third-party tools. */
  commonConnectionFile(orgName: string): string {
    return join(this.plan.stateDir, commonConnectionProfileFile(orgName));
  }

  /** Number of long-running processes a complete network has. */
  get expectedProcessCount(): number {
    return this.plan.cas.length + this.plan.orderers.length + this.plan.peers.length * 2;
  }

  /**
   * Brings the network up and returns when every node is healthy, the channel has a Raft leader, every
   * peer has joined, and the chaincode answers on every peer. A network already running is left as it is.
   */
  async up(): Promise<UpResult> {
    const started = Date.now();
    const stages: { stage: string; ms: number }[] = [];
    const stage = async <T>(name: string, fn: () => Promise<T> | T): Promise<T> => {
      const t = Date.now();
      this.#log(`${name}…`);
      const result = await fn();
      stages.push({ stage: name, ms: Date.now() - t });
      return result;
    };
    const running = readProcesses(this.plan.stateDir).filter((r) => isAlive(r.pid));
    if (running.length === this.expectedProcessCount) {
      const status = await this.status();
      if (status.every((s) => s.healthy)) {
        return { alreadyRunning: true, fresh: false, totalMs: Date.now() - started, stages };
      }
    }
    if (running.length > 0) {
      this.#log(
        `network partly running (${running.length} of ${this.expectedProcessCount} processes): restarting it`,
      );
      await stopProcesses(this.plan.stateDir);
    }
    this.#checkBinaries();
    const fresh = !existsSync(join(this.plan.stateDir, 'channel'));
    if (!fresh) this.#checkStateHasTlsCas();
    mkdirSync(this.plan.stateDir, { recursive: true });
    try {
      await stage('checking ports', () => this.#checkPorts());
      await stage('starting certificate authorities', () => this.#startCas());
      await stage('enrolling identities', () =>
        Promise.all([...this.plan.orgs, this.plan.ordererOrg].map((o) => enrollOrg(this.plan, o))),
      );
      await stage('generating node configuration', () => {
        for (const p of this.plan.peers) writePeerConfig(this.plan, p);
        for (const o of this.plan.orderers) writeOrdererConfig(this.plan, o);
        writeConfigtx(this.plan);
        createGenesisBlock(this.plan);
      });
      const orderers = await stage('starting orderers', () => this.#startNodes(this.plan.orderers));
      await stage('joining orderers to the channel', () => joinOrderers(this.plan, orderers));
      await stage('waiting for a Raft leader', () => waitForRaftLeader(this.plan, orderers));
      const peers = await stage('starting peers', () => this.#startNodes(this.plan.peers));
      await stage('joining peers to the channel', () => joinPeers(this.plan, peers));
      const chaincode = await stage('deploying chaincode', () => deployChaincode(this.plan, this.#log));
      await stage('waiting for peers to discover each other', () => waitForGossip(this.plan, peers));
      this.#writeConnectionProfile();
      return { alreadyRunning: false, fresh, totalMs: Date.now() - started, stages, chaincode };
    } catch (err) {
      this.#log('up failed: stopping the processes it started');
      await stopProcesses(this.plan.stateDir);
      throw err;
    }
  }

  /** Redeploys the chaincode after a code change (next sequence) without touching the rest. */
  async deployChaincode(): Promise<DeployResult> {
    await this.#requireRunning();
    return deployChaincode(this.plan, this.#log);
  }

  /**
   * Runs other code as one peer's chaincode (same definition and package id): what any org's administrator can
   * do to its own peer. For the rogue-peer suite; {@link restoreChaincode} puts the honest server back.
   */
  async replaceChaincode(peerId: string, moduleDir: string): Promise<void> {
    await this.#requireRunning();
    await replaceChaincodeServer(this.plan, peerId, moduleDir);
  }

  /** Puts the honest chaincode server back on one peer after {@link replaceChaincode}. */
  async restoreChaincode(peerId: string): Promise<void> {
    await this.#requireRunning();
    await restoreChaincodeServer(this.plan, peerId);
  }

  /** Stops every process of this network (recorded or carrying its marker); resolves to how many it stopped. */
  down(): Promise<number> {
    if (!existsSync(this.plan.stateDir)) return Promise.resolve(0);
    return stopProcesses(this.plan.stateDir);
  }

  /** Stops the network and deletes its generated state (crypto material, ledgers, logs). */
  async reset(): Promise<void> {
    await this.down();
    rmSync(this.plan.stateDir, { recursive: true, force: true });
  }

  /** Health of every recorded process, probed through its operations endpoint. */
  async status(): Promise<NodeStatus[]> {
    const records = readProcesses(this.plan.stateDir);
    return Promise.all(
      records.map(async (r): Promise<NodeStatus> => {
        const alive = isAlive(r.pid);
        let healthy = alive;
        let detail = alive ? 'running' : 'not running';
        const node = this.#nodeByName(r.name);
        if (alive && node) {
          const res = await httpGet(...this.#healthUrl(node));
          healthy = res?.status === 200;
          detail = res ? `healthz ${res.status}` : 'operations endpoint not answering';
        }
        return { name: r.name, kind: r.kind, pid: r.pid, alive, healthy, detail, logFile: r.logFile };
      }),
    );
  }

  /** Last lines of one node's log (or of every node's). */
  logs(name?: string, lines = 40): string {
    const records = readProcesses(this.plan.stateDir).filter((r) => !name || r.name === name);
    if (name && records.length === 0) {
      const known = readProcesses(this.plan.stateDir)
        .map((r) => r.name)
        .join(', ');
      throw new NetworkError('NOT_RUNNING', `no process named ${name} (known: ${known || 'none'})`);
    }
    return records.map((r) => `==> ${r.name} (${r.logFile})\n${tailLog(r.logFile, lines)}`).join('\n\n');
  }

  /** The Fabric CA client of an org, for registering and enrolling users with attributes. */
  ca(orgName: string): OrgCa {
    const org = [...this.plan.orgs, this.plan.ordererOrg].find((o) => o.name === orgName);
    if (!org) {
      const names = this.plan.orgs.map((o) => o.name).join(', ');
      throw new NetworkError('IDENTITY_FAILED', `unknown org ${orgName} (orgs: ${names})`);
    }
    return new OrgCa(this.plan, org);
  }

  /** Where an org's user identity is (or will be) enrolled. */
  userDir(orgName: string, user: string): string {
    const org = this.plan.orgs.find((o) => o.name === orgName);
    if (!org) throw new NetworkError('IDENTITY_FAILED', `unknown org ${orgName}`);
    return identityDir(org, user);
  }

  /** Registers a user with CA attributes and enrolls it into the org's users folder. */
  async registerUser(
    orgName: string,
    user: string,
    attrs: Readonly<Record<string, string>>,
    type = 'client',
  ): Promise<IdentityFiles> {
    await this.#requireRunning();
    return this.ca(orgName).registerAndEnroll(user, type, this.userDir(orgName, user), attrs);
  }

  #checkBinaries(): void {
    for (const bin of [
      'peer',
      'orderer',
      'configtxgen',
      'osnadmin',
      'fabric-ca-server',
      'fabric-ca-client',
    ]) {
      if (!existsSync(join(this.plan.binDir, bin))) {
        throw new NetworkError(
          'BINARIES_MISSING',
          `${join(this.plan.binDir, bin)} is missing: run \`npm run bootstrap\``,
        );
      }
    }
    for (const cfg of ['core.yaml', 'orderer.yaml', 'configtx.yaml']) {
      if (!existsSync(join(this.plan.fabricConfigDir, cfg))) {
        throw new NetworkError(
          'BINARIES_MISSING',
          `${join(this.plan.fabricConfigDir, cfg)} is missing: run \`npm run bootstrap\``,
        );
      }
    }
  }

  async #checkPorts(): Promise<void> {
    for (const p of this.plan.ports) await assertPortFree(p.host, p.port, p.owner);
  }

  async #requireRunning(): Promise<void> {
    const status = await this.status();
    if (status.length === 0 || !status.every((s) => s.alive)) {
      throw new NetworkError(
        'NOT_RUNNING',
        `network ${this.plan.description.name} is not running: run \`threadseal network up\``,
      );
    }
  }

  /**
   * A state directory made before the TLS CAs were separated has node TLS certificates from the enrollment
   * CA and a genesis block that trusts it for TLS: it cannot be reused, only reset.
   */
  #checkStateHasTlsCas(): void {
    const outdated = this.outdatedState();
    if (outdated !== undefined)
      throw new NetworkError('IDENTITY_FAILED', `${outdated}; run \`threadseal network reset\``);
  }

  /**
   * Why the state directory cannot be reused (made by an older layout of the tool), or undefined when it can
   * (or does not exist yet). The demo resets such a state; `up` refuses it.
   */
  outdatedState(): string | undefined {
    const missing = [...this.plan.orgs, this.plan.ordererOrg].filter(
      (o) => existsSync(o.caCert) && !existsSync(o.tlsCaCert),
    );
    if (missing.length === 0) return undefined;
    return `${this.plan.stateDir} was created with one CA per org for identities and TLS (no TLS CA for ${missing
      .map((o) => o.name)
      .join(', ')}): its certificates and channel cannot be reused`;
  }

  async #startCas(): Promise<ProcessRecord[]> {
    const records = [...this.plan.orgs, this.plan.ordererOrg].map((org) => {
      const ca = org.ca;
      // The CA homes hold the CAs' private keys and the server config with the registrar's secret.
      mkdirSync(ca.tlsHome, { recursive: true, mode: 0o700 });
      chmodSync(ca.home, 0o700);
      const hosts = [...new Set([ca.host, `ca.${org.domain}`, 'localhost', '127.0.0.1'])].join(',');
      const tlsHosts = [...new Set([ca.host, `tlsca.${org.domain}`, 'localhost', '127.0.0.1'])];
      // The TLS CA: a second CA of the same server (decision 0014). Settings it does not name (signing
      // profiles, registry, the bootstrap registrar) are copied by fabric-ca-server from the default CA.
      const tlsConfig = join(ca.tlsHome, 'fabric-ca-server-config.yaml');
      writeFileSync(
        tlsConfig,
        stringify({ ca: { name: ca.tlsName }, csr: { cn: `tlsca.${org.domain}`, hosts: tlsHosts } }),
        { mode: 0o600 },
      );
      return startProcess({
        name: ca.id,
        kind: 'ca',
        command: join(this.plan.binDir, 'fabric-ca-server'),
        args: [
          'start',
          '--home',
          ca.home,
          '--address',
          ca.host,
          '--port',
          String(ca.port),
          '--tls.enabled',
          '--ca.name',
          ca.name,
          '--cafiles',
          tlsConfig,
          '--csr.cn',
          `ca.${org.domain}`,
          '--csr.hosts',
          hosts,
          '--operations.listenaddress',
          `${ca.host}:${ca.opsPort}`,
        ],
        // The registrar's secret through the environment (`-b` would put it on the command line). fabric-ca-server
        // reads it when it first writes its config file, which then holds it (mode 600 folder).
        env: { FABRIC_CA_SERVER_BOOT: `registrar:${bootstrapSecret(org)}` },
        cwd: ca.home,
        logsDir: this.plan.logsDir,
        stateDir: this.plan.stateDir,
      });
    });
    await Promise.all(
      records.map((r) => {
        const node = this.#nodeByName(r.name);
        if (!node) throw new ThreadsealError('INTERNAL', `no node ${r.name}`);
        return waitHealthy(this.#healthUrl(node)[0].replace(/\/healthz$/, ''), undefined, {
          what: `${r.name} health`,
          timeoutMs: 30_000,
          process: r,
        }).then(async () => {
          const org = [...this.plan.orgs, this.plan.ordererOrg].find((o) => o.ca.id === r.name);
          if (!org) throw new ThreadsealError('INTERNAL', `no org for ${r.name}`);
          await waitForFile(org.caCert, r);
          await waitForFile(org.tlsCaCert, r);
        });
      }),
    );
    return records;
  }

  async #startNodes(nodes: readonly (PeerNode | OrdererNode)[]): Promise<ProcessRecord[]> {
    const records = nodes.map((node) =>
      startProcess({
        name: node.id,
        kind: node.kind,
        command: join(this.plan.binDir, node.kind),
        args: node.kind === 'peer' ? ['node', 'start'] : [],
        env: {
          FABRIC_CFG_PATH: node.dir,
          CORE_VM_ENDPOINT: '',
          // Per-request INFO lines (every gRPC call, every endorsement) cost CPU on the hot path.
          FABRIC_LOGGING_SPEC:
            'INFO:comm.grpc.server=WARNING:endorser=WARNING:gateway=WARNING:chaincode=WARNING',
        },
        cwd: node.dir,
        logsDir: this.plan.logsDir,
        stateDir: this.plan.stateDir,
      }),
    );
    await Promise.all(
      records.map((r, i) => {
        const node = nodes[i];
        if (!node) throw new ThreadsealError('INTERNAL', 'node index out of range');
        const [url, ca] = this.#healthUrl(node);
        return waitHealthy(url.replace(/\/healthz$/, ''), ca, {
          what: `${node.id} /healthz`,
          timeoutMs: 30_000,
          process: r,
        });
      }),
    );
    return records;
  }

  #nodeByName(name: string): CaNode | PeerNode | OrdererNode | undefined {
    return [...this.plan.cas, ...this.plan.peers, ...this.plan.orderers].find((n) => n.id === name);
  }

  #healthUrl(node: CaNode | PeerNode | OrdererNode): [string, string | undefined] {
    if (node.kind === 'ca') return [`http://${node.host}:${node.opsPort}/healthz`, undefined];
    const org =
      node.kind === 'orderer' ? this.plan.ordererOrg : this.plan.orgs.find((o) => o.name === node.org);
    return [`https://${node.host}:${node.opsPort}/healthz`, org?.tlsCaCert];
  }

  #writeConnectionProfile(): void {
    const orgs: Record<string, ConnectionProfile['orgs'][string]> = {};
    for (const org of this.plan.orgs) {
      orgs[org.name] = {
        mspId: org.mspId,
        peers: this.plan.peers
          .filter((p) => p.org === org.name)
          .map((p) => ({ id: p.id, endpoint: `${p.host}:${p.port}`, hostAlias: `${p.name}.${org.domain}` })),
        tlsCaCert: org.tlsCaCert,
        enrollmentCaCert: org.caCert,
        usersDir: org.usersDir,
        users: ['admin', ...org.users.map((u) => u.name)],
      };
    }
    const profile: ConnectionProfile = {
      network: this.plan.description.name,
      channel: this.plan.description.channel.name,
      chaincode: this.plan.description.chaincode.name,
      orgs,
    };
    writeFileSync(this.connectionFile, JSON.stringify(profile, null, 2) + '\n');
    for (const org of this.plan.orgs) {
      const ccp = commonConnectionProfile(this.plan, org);
      writeFileSync(this.commonConnectionFile(org.name), JSON.stringify(ccp, null, 2) + '\n');
    }
  }
}

async function waitForFile(file: string, proc: ProcessRecord): Promise<void> {
  await waitFor(() => Promise.resolve(existsSync(file) ? true : undefined), {
    what: file,
    timeoutMs: 10_000,
    process: proc,
  });
}

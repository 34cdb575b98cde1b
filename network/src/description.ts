import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { NetworkError } from './errors';

/** A user the org CA registers at network creation, with CA attributes put into its enrollment certificate. */
export interface UserSpec {
  readonly name: string;
  readonly type: 'client' | 'admin';
  readonly attrs: Readonly<Record<string, string>>;
}

interface NodeSpec {
  readonly name: string;
  readonly host: string;
}

interface OrgSpecBase {
  readonly name: string;
  readonly mspId: string;
  readonly domain: string;
  readonly ca: { readonly host: string };
}

/** A peer organization of the channel. */
export interface PeerOrgSpec extends OrgSpecBase {
  readonly role: string;
  readonly peers: readonly NodeSpec[];
  readonly users: readonly UserSpec[];
}

/** The ordering organization. */
export interface OrdererOrgSpec extends OrgSpecBase {
  readonly orderers: readonly NodeSpec[];
}

/** Channel capability levels the network tool can write into the genesis block. */
export const CHANNEL_CAPABILITIES = ['V2_0', 'V3_0'] as const;
export type ChannelCapability = (typeof CHANNEL_CAPABILITIES)[number];

/** The declarative network description (`network/profiles/*.yaml`). */
export interface NetworkDescription {
  readonly name: string;
  readonly basePort: number;
  readonly channel: {
    readonly name: string;
    readonly batchTimeout: string;
    readonly maxMessageCount: number;
    /**
     * The channel capability level. `V2_0` by default: in the Fabric build we run, `V3_0` makes every peer
     * gateway broadcast each transaction to every orderer as if the channel were BFT, so a Raft channel
     * orders it once per orderer (decision 0005). `V3_0` is accepted only to measure that.
     */
    readonly capability: ChannelCapability;
    readonly raft: {
      readonly tickInterval: string;
      readonly electionTicks: number;
      readonly heartbeatTicks: number;
    };
  };
  readonly chaincode: { readonly name: string; readonly path: string };
  readonly orgs: readonly PeerOrgSpec[];
  readonly ordererOrg: OrdererOrgSpec;
}

type Json = unknown;

function fail(path: string, expected: string, found: Json): never {
  throw new NetworkError(
    'INVALID_DESCRIPTION',
    `${path}: expected ${expected}, found ${JSON.stringify(found)}`,
  );
}

function obj(v: Json, path: string): Record<string, Json> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, 'a mapping', v);
  return v as Record<string, Json>;
}

function str(v: Json, path: string, pattern = /^[A-Za-z0-9][A-Za-z0-9._-]*$/): string {
  if (typeof v !== 'string' || !pattern.test(v)) fail(path, `a string matching ${pattern}`, v);
  return v;
}

function int(v: Json, path: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    fail(path, `an integer in ${min}..${max}`, v);
  return v;
}

function arr(v: Json, path: string): Json[] {
  if (!Array.isArray(v) || v.length === 0) fail(path, 'a non-empty list', v);
  return v as Json[];
}

const duration = /^\d+(ms|s)$/;

function capability(v: Json): ChannelCapability {
  if (v === undefined) return 'V2_0';
  const found = CHANNEL_CAPABILITIES.find((c) => c === v);
  if (!found) fail('channel.capability', CHANNEL_CAPABILITIES.join(' or '), v);
  return found;
}

function nodes(v: Json, path: string): NodeSpec[] {
  return arr(v, path).map((n, i) => {
    const o = obj(n, `${path}[${i}]`);
    return { name: str(o['name'], `${path}[${i}].name`), host: str(o['host'], `${path}[${i}].host`) };
  });
}

function users(v: Json, path: string): UserSpec[] {
  if (v === undefined) return [];
  return arr(v, path).map((u, i) => {
    const o = obj(u, `${path}[${i}]`);
    const type = o['type'] ?? 'client';
    if (type !== 'client' && type !== 'admin') fail(`${path}[${i}].type`, "'client' or 'admin'", type);
    const attrs: Record<string, string> = {};
    for (const [k, val] of Object.entries(obj(o['attrs'] ?? {}, `${path}[${i}].attrs`))) {
      attrs[str(k, `${path}[${i}].attrs key`)] = str(val, `${path}[${i}].attrs.${k}`, /^[^=:"]+$/);
    }
    return { name: str(o['name'], `${path}[${i}].name`), type, attrs };
  });
}

function orgBase(o: Record<string, Json>, path: string): OrgSpecBase {
  return {
    name: str(o['name'], `${path}.name`, /^[a-z][a-z0-9-]*$/),
    mspId: str(o['mspId'], `${path}.mspId`, /^[A-Za-z][A-Za-z0-9]*$/),
    domain: str(o['domain'], `${path}.domain`),
    ca: { host: str(obj(o['ca'], `${path}.ca`)['host'], `${path}.ca.host`) },
  };
}

/** Parses and validates a description; every problem names the field, what was expected and what was found. */
export function parseDescription(text: string): NetworkDescription {
  const doc = obj(parse(text) as Json, 'description');
  const channel = obj(doc['channel'], 'channel');
  const raft = obj(channel['raft'], 'channel.raft');
  const batchTimeout = str(channel['batchTimeout'], 'channel.batchTimeout', duration);
  if (parseDurationMs(batchTimeout) > 250) fail('channel.batchTimeout', 'at most 250ms', batchTimeout);
  const chaincode = obj(doc['chaincode'], 'chaincode');
  const orgs = arr(doc['orgs'], 'orgs').map((v, i): PeerOrgSpec => {
    const o = obj(v, `orgs[${i}]`);
    return {
      ...orgBase(o, `orgs[${i}]`),
      role: str(o['role'], `orgs[${i}].role`),
      peers: nodes(o['peers'], `orgs[${i}].peers`),
      users: users(o['users'], `orgs[${i}].users`),
    };
  });
  const ord = obj(doc['ordererOrg'], 'ordererOrg');
  const description: NetworkDescription = {
    name: str(doc['name'], 'name'),
    basePort: int(doc['basePort'], 'basePort', 1024, 64000),
    channel: {
      name: str(channel['name'], 'channel.name', /^[a-z][a-z0-9.-]*$/),
      batchTimeout,
      maxMessageCount: int(channel['maxMessageCount'], 'channel.maxMessageCount', 1, 10000),
      capability: capability(channel['capability']),
      raft: {
        tickInterval: str(raft['tickInterval'], 'channel.raft.tickInterval', duration),
        electionTicks: int(raft['electionTicks'], 'channel.raft.electionTicks', 2, 100),
        heartbeatTicks: int(raft['heartbeatTicks'], 'channel.raft.heartbeatTicks', 1, 10),
      },
    },
    chaincode: {
      name: str(chaincode['name'], 'chaincode.name'),
      path: str(chaincode['path'], 'chaincode.path'),
    },
    orgs,
    ordererOrg: { ...orgBase(ord, 'ordererOrg'), orderers: nodes(ord['orderers'], 'ordererOrg.orderers') },
  };
  const names = [...orgs.map((o) => o.name), description.ordererOrg.name];
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) fail('orgs', 'unique org names', dup);
  const msps = [...orgs.map((o) => o.mspId), description.ordererOrg.mspId];
  const dupMsp = msps.find((n, i) => msps.indexOf(n) !== i);
  if (dupMsp) fail('orgs', 'unique MSP ids', dupMsp);
  return description;
}

/** Reads and validates a description file. */
export function loadDescription(file: string): NetworkDescription {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new NetworkError(
      'INVALID_DESCRIPTION',
      `cannot read network description ${file}: ${(err as Error).message}`,
    );
  }
  return parseDescription(text);
}

/** `100ms` / `2s` → milliseconds. */
export function parseDurationMs(value: string): number {
  const m = /^(\d+)(ms|s)$/.exec(value);
  if (!m) throw new NetworkError('INVALID_DESCRIPTION', `bad duration ${value}`);
  return Number(m[1]) * (m[2] === 's' ? 1000 : 1);
}

import { common, msp as mspProto, orderer, peer } from '@hyperledger/fabric-protos';

// What a configuration update changed, said in the terms of the values it changed (Fabric's
// common/channelconfig keys), so an auditor reads "the batch size went from 10 to 500 messages" or "Org1
// has a new anchor peer", not just "the configuration changed". Values that do not decode are said so.

function list(items: readonly string[]): string {
  return items.length === 0 ? 'none' : items.join(', ');
}

function describeAddresses(bytes: Uint8Array): string {
  return list(common.OrdererAddresses.deserializeBinary(bytes).getAddressesList());
}

function describeBatchSize(bytes: Uint8Array): string {
  const b = orderer.BatchSize.deserializeBinary(bytes);
  return `max ${b.getMaxMessageCount()} messages, absolute max ${b.getAbsoluteMaxBytes()} bytes, preferred max ${b.getPreferredMaxBytes()} bytes`;
}

function describeCapabilities(bytes: Uint8Array): string {
  return list([...common.Capabilities.deserializeBinary(bytes).getCapabilitiesMap().keys()].sort());
}

function describeAnchorPeers(bytes: Uint8Array): string {
  return list(
    peer.AnchorPeers.deserializeBinary(bytes)
      .getAnchorPeersList()
      .map((p) => `${p.getHost()}:${p.getPort()}`),
  );
}

function describeConsensusType(bytes: Uint8Array): string {
  const c = orderer.ConsensusType.deserializeBinary(bytes);
  return `${c.getType()} (state ${c.getState()}, metadata ${c.getMetadata_asU8().length} bytes)`;
}

function describeMsp(bytes: Uint8Array): string {
  const config = mspProto.MSPConfig.deserializeBinary(bytes);
  if (config.getType() !== 0) return `MSP of type ${config.getType()}`;
  const f = mspProto.FabricMSPConfig.deserializeBinary(config.getConfig_asU8());
  return `MSP ${f.getName()}: ${f.getRootCertsList().length} root, ${f.getIntermediateCertsList().length} intermediate, ${f.getAdminsList().length} admin certificate(s), ${f.getRevocationListList().length} revocation list(s), node OUs ${f.getFabricNodeOus()?.getEnable() ? 'on' : 'off'}`;
}

const VALUE_DESCRIPTIONS: Record<string, (bytes: Uint8Array) => string> = {
  OrdererAddresses: describeAddresses,
  Endpoints: describeAddresses,
  BatchSize: describeBatchSize,
  BatchTimeout: (b) => orderer.BatchTimeout.deserializeBinary(b).getTimeout(),
  Capabilities: describeCapabilities,
  AnchorPeers: describeAnchorPeers,
  ConsensusType: describeConsensusType,
  MSP: describeMsp,
  HashingAlgorithm: (b) => common.HashingAlgorithm.deserializeBinary(b).getName(),
};

/** A config value as its key says to read it; `undefined` bytes: absent. */
function describeValue(name: string, value: common.ConfigValue | undefined): string {
  if (!value) return 'absent';
  const bytes = value.getValue_asU8();
  const describe = VALUE_DESCRIPTIONS[name];
  if (!describe) return `${bytes.length} bytes`;
  try {
    return describe(bytes);
  } catch {
    return `${bytes.length} bytes that do not decode as ${name}`;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}

function describePolicy(policy: common.ConfigPolicy | undefined): string {
  const p = policy?.getPolicy();
  if (!p) return 'absent';
  if (p.getType() === common.Policy.PolicyType.IMPLICIT_META) {
    try {
      const meta = common.ImplicitMetaPolicy.deserializeBinary(p.getValue_asU8());
      const rule = ['ANY', 'ALL', 'MAJORITY'][meta.getRule()] ?? `rule ${meta.getRule()}`;
      return `${rule} ${meta.getSubPolicy()}`;
    } catch {
      return 'an implicit meta policy that does not decode';
    }
  }
  if (p.getType() === common.Policy.PolicyType.SIGNATURE) return 'a signature policy';
  return `a policy of type ${p.getType()}`;
}

function walk(
  path: string,
  before: common.ConfigGroup | undefined,
  after: common.ConfigGroup | undefined,
  out: string[],
): void {
  if (!before && !after) return;
  if (!before) {
    out.push(`${path} added`);
  } else if (!after) {
    out.push(`${path} removed`);
    return;
  } else if (before.getModPolicy() !== after.getModPolicy()) {
    out.push(`${path} mod_policy: ${before.getModPolicy() || 'none'} → ${after.getModPolicy() || 'none'}`);
  }
  const beforeValues = before?.getValuesMap();
  const afterValues = after?.getValuesMap();
  const valueNames = new Set([...(beforeValues?.keys() ?? []), ...(afterValues?.keys() ?? [])]);
  for (const name of [...valueNames].sort()) {
    const b = beforeValues?.get(name);
    const a = afterValues?.get(name);
    if (b && a && sameBytes(b.getValue_asU8(), a.getValue_asU8())) {
      if (b.getModPolicy() !== a.getModPolicy())
        out.push(`${path}/${name} mod_policy: ${b.getModPolicy() || 'none'} → ${a.getModPolicy() || 'none'}`);
      continue;
    }
    out.push(`${path}/${name}: ${describeValue(name, b)} → ${describeValue(name, a)}`);
  }
  const beforePolicies = before?.getPoliciesMap();
  const afterPolicies = after?.getPoliciesMap();
  const policyNames = new Set([...(beforePolicies?.keys() ?? []), ...(afterPolicies?.keys() ?? [])]);
  for (const name of [...policyNames].sort()) {
    const b = beforePolicies?.get(name);
    const a = afterPolicies?.get(name);
    const bBytes = b?.serializeBinary();
    const aBytes = a?.serializeBinary();
    if (bBytes && aBytes && sameBytes(bBytes, aBytes)) continue;
    out.push(`${path} policy ${name}: ${describePolicy(b)} → ${describePolicy(a)}`);
  }
  const beforeGroups = before?.getGroupsMap();
  const afterGroups = after?.getGroupsMap();
  const groupNames = new Set([...(beforeGroups?.keys() ?? []), ...(afterGroups?.keys() ?? [])]);
  for (const name of [...groupNames].sort())
    walk(`${path}/${name}`, beforeGroups?.get(name), afterGroups?.get(name), out);
}

/**
 * What changed from one channel configuration to the next, one line per changed element (path, what it
 * held, what it holds), in path order: orderer addresses, batch size and timeout, capabilities, anchor
 * peers, consensus type, MSP definitions and hashing algorithm are decoded; other values are given by size.
 */
export function describeConfigChanges(previous: common.Config, next: common.Config): string[] {
  const out: string[] = [];
  walk('/Channel', previous.getChannelGroup(), next.getChannelGroup(), out);
  return out;
}

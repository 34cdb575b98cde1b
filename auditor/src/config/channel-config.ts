import { common, msp as mspProto } from '@hyperledger/fabric-protos';
import { Msp, MspManager } from '../msp/msp';
import { evaluateSignaturePolicy, type VerifiedSigner } from '../policy/policy';

/** A policy's verdict, with the reason when it is not satisfied. */
export type PolicyVerdict = { readonly ok: true } | { readonly ok: false; readonly reason: string };

const OK: PolicyVerdict = { ok: true };

/** A config policy decoded once. */
type DecodedPolicy =
  | { readonly kind: 'missing' }
  | { readonly kind: 'signature'; readonly envelope: common.SignaturePolicyEnvelope }
  | { readonly kind: 'meta'; readonly meta: common.ImplicitMetaPolicy; readonly subGroups: readonly string[] }
  | { readonly kind: 'other'; readonly type: number };

/** An organisation of the channel: its config group name, its MSP id, where it sits. */
export interface ChannelOrg {
  readonly groupName: string;
  readonly mspId: string;
  readonly section: 'Application' | 'Orderer';
}

function collectOrgs(config: common.Config): { orgs: ChannelOrg[]; msps: Msp[] } {
  const orgs: ChannelOrg[] = [];
  const msps = new Map<string, Msp>();
  const channel = config.getChannelGroup();
  for (const section of ['Application', 'Orderer'] as const) {
    const group = channel?.getGroupsMap().get(section);
    if (!group) continue;
    for (const [groupName, org] of group.getGroupsMap().entries()) {
      const value = org.getValuesMap().get('MSP');
      if (!value) continue;
      const mspConfig = mspProto.MSPConfig.deserializeBinary(value.getValue_asU8());
      if (mspConfig.getType() !== 0) continue; // only FABRIC (X.509) MSPs; idemix is not supported
      const fabric = mspProto.FabricMSPConfig.deserializeBinary(mspConfig.getConfig_asU8());
      orgs.push({ groupName, mspId: fabric.getName(), section });
      if (!msps.has(fabric.getName())) msps.set(fabric.getName(), new Msp(fabric));
    }
  }
  return { orgs, msps: [...msps.values()] };
}

/**
 * One channel configuration, as a config block carries it: the organisations and their MSPs, and the
 * policy tree evaluated the way Fabric's policy manager does (signature policies, implicit meta ANY /
 * ALL / MAJORITY over sub-groups).
 */
export class ChannelConfig {
  readonly config: common.Config;
  readonly msps: MspManager;
  readonly orgs: readonly ChannelOrg[];
  /** The block that carried this configuration. */
  readonly blockNumber: bigint;
  // The configuration never changes once built: each policy is decoded once, on first use.
  readonly #decoded = new Map<string, DecodedPolicy>();

  public constructor(config: common.Config, blockNumber: bigint) {
    this.config = config;
    this.blockNumber = blockNumber;
    const { orgs, msps } = collectOrgs(config);
    this.orgs = orgs;
    this.msps = new MspManager(msps);
  }

  /** Parses the configuration carried by a CONFIG envelope's payload data (a ConfigEnvelope). */
  public static fromConfigEnvelope(payloadData: Uint8Array, blockNumber: bigint): ChannelConfig {
    const envelope = common.ConfigEnvelope.deserializeBinary(payloadData);
    const config = envelope.getConfig();
    if (!config) throw new TypeError('config envelope without a config');
    return new ChannelConfig(config, blockNumber);
  }

  /** The org group name of an application org's MSP id (for `/Channel/Application/<Org>/Endorsement`). */
  public applicationOrgName(mspId: string): string | undefined {
    return this.orgs.find((o) => o.section === 'Application' && o.mspId === mspId)?.groupName;
  }

  #group(path: readonly string[]): common.ConfigGroup | undefined {
    let group = this.config.getChannelGroup();
    for (const name of path) group = group?.getGroupsMap().get(name);
    return group;
  }

  /** Whether a policy exists at an absolute path like `/Channel/Application/Endorsement`. */
  public hasPolicy(path: string): boolean {
    const parts = path.split('/').filter((p) => p !== '');
    if (parts[0] !== 'Channel' || parts.length < 2) return false;
    const group = this.#group(parts.slice(1, -1));
    return group?.getPoliciesMap().get(parts[parts.length - 1] ?? '') !== undefined;
  }

  /** Evaluates the policy at an absolute path (`/Channel/Orderer/BlockValidation`) over verified signers. */
  public evaluatePath(path: string, signers: readonly VerifiedSigner[]): PolicyVerdict {
    const parts = path.split('/').filter((p) => p !== '');
    if (parts[0] !== 'Channel' || parts.length < 2)
      return { ok: false, reason: `policy path ${path} is not under /Channel` };
    return this.#evaluateIn(parts.slice(1, -1), parts[parts.length - 1] ?? '', signers);
  }

  #evaluateIn(groupPath: readonly string[], name: string, signers: readonly VerifiedSigner[]): PolicyVerdict {
    const where = `/Channel/${[...groupPath, name].join('/')}`;
    const decoded = this.#decode(where, groupPath, name);
    switch (decoded.kind) {
      case 'missing':
        return { ok: false, reason: `no policy ${where} in the channel configuration` };
      case 'signature':
        return evaluateSignaturePolicy(decoded.envelope, signers)
          ? OK
          : { ok: false, reason: `${where} (signature policy) not satisfied` };
      case 'meta': {
        const { meta, subGroups } = decoded;
        const results = subGroups.map((sub) =>
          this.#evaluateIn([...groupPath, sub], meta.getSubPolicy(), signers),
        );
        const satisfied = results.filter((r) => r.ok).length;
        const rule = meta.getRule();
        const threshold =
          rule === common.ImplicitMetaPolicy.Rule.ANY
            ? 1
            : rule === common.ImplicitMetaPolicy.Rule.ALL
              ? subGroups.length
              : Math.floor(subGroups.length / 2) + 1;
        if (satisfied >= threshold) return OK;
        const ruleName =
          rule === common.ImplicitMetaPolicy.Rule.ANY
            ? 'ANY'
            : rule === common.ImplicitMetaPolicy.Rule.ALL
              ? 'ALL'
              : 'MAJORITY';
        return {
          ok: false,
          reason: `${where} (${ruleName} ${meta.getSubPolicy()}) satisfied by ${satisfied} of ${subGroups.length} sub-groups, needs ${threshold}`,
        };
      }
      case 'other':
        return {
          ok: false,
          reason: `${where} has policy type ${decoded.type}, which the auditor does not evaluate`,
        };
    }
  }

  #decode(where: string, groupPath: readonly string[], name: string): DecodedPolicy {
    const cached = this.#decoded.get(where);
    if (cached) return cached;
    const group = this.#group(groupPath);
    const policy = group?.getPoliciesMap().get(name)?.getPolicy();
    let decoded: DecodedPolicy;
    if (!group || !policy) decoded = { kind: 'missing' };
    else if (policy.getType() === common.Policy.PolicyType.SIGNATURE)
      decoded = {
        kind: 'signature',
        envelope: common.SignaturePolicyEnvelope.deserializeBinary(policy.getValue_asU8()),
      };
    else if (policy.getType() === common.Policy.PolicyType.IMPLICIT_META)
      decoded = {
        kind: 'meta',
        meta: common.ImplicitMetaPolicy.deserializeBinary(policy.getValue_asU8()),
        subGroups: [...group.getGroupsMap().keys()].sort(),
      };
    else decoded = { kind: 'other', type: policy.getType() };
    this.#decoded.set(where, decoded);
    return decoded;
  }
}

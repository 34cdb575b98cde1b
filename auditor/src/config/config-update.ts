import { common } from '@hyperledger/fabric-protos';
import { checkSignatures, type SignedData } from '../policy/policy';
import type { ChannelConfig, PolicyVerdict } from './channel-config';

// Fabric's configtx validation (common/configtx/validator.go, update.go, compare.go) redone over the
// configuration in force before a config block: the ConfigUpdate's read set must match it, every element
// the write set changes must move one version up and be authorized by the mod_policy of the element as
// it stands, and the configuration the block carries must be exactly the previous one with the change
// applied (so a block cannot carry an authorized update next to an unauthorized configuration).

const ROOT = 'Channel';

type ElementKind = 'Group' | 'Value' | 'Policy';

interface ConfigElement {
  readonly kind: ElementKind;
  /** The path of the group holding the element (`['Channel', 'Application']`); [] for the root group. */
  readonly path: readonly string[];
  readonly name: string;
  readonly version: number;
  readonly modPolicy: string;
  /** What the element holds, for comparison: a value's bytes, a policy's encoding, a group's child names. */
  readonly content: string;
  readonly children?: {
    readonly groups: readonly string[];
    readonly values: readonly string[];
    readonly policies: readonly string[];
  };
}

function keyOf(kind: ElementKind, path: readonly string[], name: string): string {
  return `[${kind}] /${[...path, name].join('/')}`;
}

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/** Every element of a config tree by its key, as Fabric's configtx `mapConfig` lists them. */
function flatten(
  group: common.ConfigGroup,
  path: readonly string[] = [],
  name = ROOT,
): Map<string, ConfigElement> {
  const out = new Map<string, ConfigElement>();
  const walk = (g: common.ConfigGroup, groupPath: readonly string[], groupName: string): void => {
    const here = [...groupPath, groupName];
    const groups = [...g.getGroupsMap().keys()].sort();
    const values = [...g.getValuesMap().keys()].sort();
    const policies = [...g.getPoliciesMap().keys()].sort();
    out.set(keyOf('Group', groupPath, groupName), {
      kind: 'Group',
      path: groupPath,
      name: groupName,
      version: g.getVersion(),
      modPolicy: g.getModPolicy(),
      content: JSON.stringify([groups, values, policies]),
      children: { groups, values, policies },
    });
    for (const v of values) {
      const value = g.getValuesMap().get(v);
      if (!value) continue;
      out.set(keyOf('Value', here, v), {
        kind: 'Value',
        path: here,
        name: v,
        version: value.getVersion(),
        modPolicy: value.getModPolicy(),
        content: latin1(value.getValue_asU8()),
      });
    }
    for (const p of policies) {
      const policy = g.getPoliciesMap().get(p);
      if (!policy) continue;
      const inner = policy.getPolicy();
      out.set(keyOf('Policy', here, p), {
        kind: 'Policy',
        path: here,
        name: p,
        version: policy.getVersion(),
        modPolicy: policy.getModPolicy(),
        content: inner ? `${inner.getType()}:${latin1(inner.getValue_asU8())}` : 'none',
      });
    }
    for (const c of groups) {
      const child = g.getGroupsMap().get(c);
      if (child) walk(child, here, c);
    }
  };
  walk(group, path, name);
  return out;
}

/** The absolute path of the policy that may modify `element` (configtx `policyForItem`). */
function modPolicyPath(element: ConfigElement): string {
  const mod = element.modPolicy;
  if (mod.startsWith('/')) return mod;
  // A group's own name is part of the path its relative mod_policy is resolved in; the root group's
  // policies are the channel's.
  const base = element.kind === 'Group' ? [...element.path, element.name] : element.path;
  return `/${(base.length === 0 ? [ROOT] : base).join('/')}/${mod}`;
}

/** The ConfigUpdate a config envelope claims it applied, and the signatures over it. */
interface DecodedUpdate {
  readonly update: common.ConfigUpdate;
  readonly signed: SignedData[];
}

function decodeLastUpdate(envelope: common.ConfigEnvelope): DecodedUpdate | string {
  const last = envelope.getLastUpdate();
  if (!last) return 'the config envelope has no last_update';
  let payload: common.Payload;
  let updateEnvelope: common.ConfigUpdateEnvelope;
  let update: common.ConfigUpdate;
  try {
    payload = common.Payload.deserializeBinary(last.getPayload_asU8());
    const header = payload.getHeader();
    const channelHeader = common.ChannelHeader.deserializeBinary(
      header?.getChannelHeader_asU8() ?? new Uint8Array(),
    );
    if (channelHeader.getType() !== common.HeaderType.CONFIG_UPDATE)
      return `last_update has header type ${channelHeader.getType()}, not CONFIG_UPDATE`;
    updateEnvelope = common.ConfigUpdateEnvelope.deserializeBinary(payload.getData_asU8());
    update = common.ConfigUpdate.deserializeBinary(updateEnvelope.getConfigUpdate_asU8());
  } catch (err) {
    return `last_update does not decode: ${(err as Error).message}`;
  }
  const signed: SignedData[] = [];
  for (const sig of updateEnvelope.getSignaturesList()) {
    let creator: Uint8Array;
    try {
      creator = common.SignatureHeader.deserializeBinary(sig.getSignatureHeader_asU8()).getCreator_asU8();
    } catch {
      return 'a config update signature header does not decode';
    }
    // Fabric (ConfigUpdateEnvelope.AsSignedData): each signature is over signature_header || config_update.
    signed.push({
      identity: creator,
      data: Buffer.concat([sig.getSignatureHeader_asU8(), updateEnvelope.getConfigUpdate_asU8()]),
      signature: sig.getSignature_asU8(),
    });
  }
  return { update, signed };
}

/**
 * Checks a config block's configuration against the one in force before it, as Fabric's configtx
 * validator does when it proposes the block's `last_update`: the channel ids agree, the sequence moves by
 * one, the read set's versions are current, each changed element moves one version up (a new one starts
 * at 0) and the update's signatures (identities valid at `at`) satisfy the mod_policy of each changed
 * element as it stood, and the carried configuration is exactly the previous one with the write set
 * applied. Returns why it is not, or ok.
 */
export function checkConfigUpdate(
  current: ChannelConfig,
  envelope: common.ConfigEnvelope,
  channelId: string,
  at?: number,
): PolicyVerdict {
  const carried = envelope.getConfig();
  const previousRoot = current.config.getChannelGroup();
  const carriedRoot = carried?.getChannelGroup();
  if (!carried || !carriedRoot || !previousRoot)
    return { ok: false, reason: 'a configuration has no channel group' };
  if (carried.getSequence() !== current.config.getSequence() + 1)
    return {
      ok: false,
      reason: `config sequence ${carried.getSequence()} does not follow ${current.config.getSequence()}`,
    };
  const decoded = decodeLastUpdate(envelope);
  if (typeof decoded === 'string') return { ok: false, reason: decoded };
  const { update, signed } = decoded;
  if (update.getChannelId() !== channelId)
    return { ok: false, reason: `the update is for channel '${update.getChannelId()}', not '${channelId}'` };
  const readSet = update.getReadSet();
  const writeSet = update.getWriteSet();
  if (!readSet || !writeSet) return { ok: false, reason: 'the update has no read set or no write set' };
  const existing = flatten(previousRoot);
  const reads = flatten(readSet);
  const writes = flatten(writeSet);
  for (const [key, read] of reads) {
    const now = existing.get(key);
    if (!now) return { ok: false, reason: `${key} is in the read set but not in the configuration` };
    if (now.version !== read.version)
      return { ok: false, reason: `${key} was read at version ${read.version}, it is at ${now.version}` };
  }
  const delta = new Map<string, ConfigElement>();
  for (const [key, write] of writes) if (reads.get(key)?.version !== write.version) delta.set(key, write);
  if (delta.size === 0) return { ok: false, reason: 'the update changes nothing' };
  const check = checkSignatures(signed, current.msps, at);
  for (const [key, change] of delta) {
    if (change.modPolicy === '') return { ok: false, reason: `${key} is written without a mod_policy` };
    const before = existing.get(key);
    if (!before) {
      if (change.version !== 0)
        return { ok: false, reason: `${key} is new but written at version ${change.version}, not 0` };
      continue;
    }
    if (change.version !== before.version + 1)
      return {
        ok: false,
        reason: `${key} is written at version ${change.version}, it is at ${before.version}`,
      };
    const policy = modPolicyPath(before);
    const verdict = current.evaluatePath(policy, check.valid);
    if (!verdict.ok)
      return {
        ok: false,
        reason: `the mod_policy ${policy} of ${key} is not satisfied by the update's ${signed.length} signature(s) (${check.valid.length} valid${check.refused.length ? `; refused: ${check.refused.map((r) => r.reason).join('; ')}` : ''}): ${verdict.reason}`,
      };
  }
  // The configuration the update leads to: the previous elements with the changed ones replaced, as
  // reachable from the root through each group's children.
  const merged = new Map([...existing, ...delta]);
  const result = new Map<string, ConfigElement>();
  const reach = (key: string): string | undefined => {
    const element = merged.get(key);
    if (!element) return `the update leads to a configuration without ${key}`;
    result.set(key, element);
    if (!element.children) return undefined;
    const here = [...element.path, element.name];
    for (const v of element.children.values) {
      const missing = reach(keyOf('Value', here, v));
      if (missing) return missing;
    }
    for (const p of element.children.policies) {
      const missing = reach(keyOf('Policy', here, p));
      if (missing) return missing;
    }
    for (const g of element.children.groups) {
      const missing = reach(keyOf('Group', here, g));
      if (missing) return missing;
    }
    return undefined;
  };
  const missing = reach(keyOf('Group', [], ROOT));
  if (missing) return { ok: false, reason: missing };
  const carriedElements = flatten(carriedRoot);
  for (const [key, element] of carriedElements) {
    const expected = result.get(key);
    if (!expected)
      return { ok: false, reason: `the carried configuration adds ${key}, which the update does not` };
    if (
      expected.version !== element.version ||
      expected.modPolicy !== element.modPolicy ||
      expected.content !== element.content
    )
      return { ok: false, reason: `the carried configuration's ${key} is not what the update makes of it` };
  }
  for (const key of result.keys())
    if (!carriedElements.has(key))
      return { ok: false, reason: `the carried configuration lacks ${key}, which the update keeps` };
  return { ok: true };
}

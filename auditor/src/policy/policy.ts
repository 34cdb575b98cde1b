import { msp as mspProto, type common } from '@hyperledger/fabric-protos';
import { verifyFabricSignature, type MspManager, type MspRole, type ValidIdentity } from '../msp/msp';

/** One signature a policy is evaluated over: who signed (serialized identity), what, and the signature. */
export interface SignedData {
  readonly identity: Uint8Array;
  readonly data: Uint8Array;
  readonly signature: Uint8Array;
}

/**
 * A signature already verified (on a worker thread, by `decodeBlock`) under the public key of exactly
 * this identity's certificate; `verified` undefined: that key could not be read.
 */
export interface PreverifiedSignature {
  readonly identity: Uint8Array;
  readonly verified: boolean | undefined;
}

/** A signer whose identity and signature were checked. */
export interface VerifiedSigner {
  readonly identity: ValidIdentity;
}

/** What became of each signature before a policy looked at it. */
export interface SignatureCheck {
  readonly valid: readonly VerifiedSigner[];
  /** Signatures dropped, with why (bad identity, bad signature, a duplicate identity). */
  readonly refused: readonly { readonly index: number; readonly reason: string }[];
}

/**
 * Checks each signature the way Fabric's `SignatureSetToValidIdentities` does before any policy runs:
 * an identity counts once, it must validate against the channel's MSPs (and, given `at`, its
 * certificate must be within its validity period then), and its signature must verify.
 */
export function checkSignatures(
  signed: readonly (SignedData | PreverifiedSignature)[],
  msps: MspManager,
  at?: number,
): SignatureCheck {
  const valid: VerifiedSigner[] = [];
  const refused: { index: number; reason: string }[] = [];
  signed.forEach((sd, index) => {
    // Signature sets are short: comparing with the earlier identities beats building a key of ~1 KB each.
    const identity = Buffer.from(sd.identity.buffer, sd.identity.byteOffset, sd.identity.byteLength);
    if (signed.slice(0, index).some((earlier) => identity.equals(earlier.identity))) {
      refused.push({ index, reason: 'the same identity signed twice' });
      return;
    }
    const id = msps.identity(sd.identity, at);
    if (!id.ok) {
      refused.push({ index, reason: id.reason });
      return;
    }
    const verified =
      'verified' in sd
        ? sd.verified === true
        : verifyFabricSignature(id.identity.publicKey, sd.data, sd.signature);
    if (!verified) {
      refused.push({ index, reason: `signature of ${id.identity.mspId} identity does not verify` });
      return;
    }
    valid.push({ identity: id.identity });
  });
  return { valid, refused };
}

const ROLE_BY_NUMBER: Record<number, MspRole> = {
  [mspProto.MSPRole.MSPRoleType.MEMBER]: 'member',
  [mspProto.MSPRole.MSPRoleType.ADMIN]: 'admin',
  [mspProto.MSPRole.MSPRoleType.CLIENT]: 'client',
  [mspProto.MSPRole.MSPRoleType.PEER]: 'peer',
  [mspProto.MSPRole.MSPRoleType.ORDERER]: 'orderer',
};

// Principals belong to decoded policies, which are cached and never mutated: each role is decoded once.
const roles = new WeakMap<mspProto.MSPPrincipal, mspProto.MSPRole>();

function satisfiesPrincipal(identity: ValidIdentity, principal: mspProto.MSPPrincipal): boolean {
  switch (principal.getPrincipalClassification()) {
    case mspProto.MSPPrincipal.Classification.ROLE: {
      let role = roles.get(principal);
      if (!role) {
        role = mspProto.MSPRole.deserializeBinary(principal.getPrincipal_asU8());
        roles.set(principal, role);
      }
      const wanted = ROLE_BY_NUMBER[role.getRole()];
      return role.getMspIdentifier() === identity.mspId && wanted !== undefined && identity.roles.has(wanted);
    }
    case mspProto.MSPPrincipal.Classification.IDENTITY:
      return Buffer.from(principal.getPrincipal_asU8()).equals(Buffer.from(identity.serialized));
    default:
      // ORGANIZATION_UNIT, ANONYMITY and COMBINED principals are not evaluated: they satisfy nothing.
      return false;
  }
}

/**
 * Evaluates a SignaturePolicyEnvelope over verified signers, as Fabric's cauthdsl does: `n out of`
 * rules, each signer used at most once, a rule's claim kept only when the rule is satisfied.
 */
export function evaluateSignaturePolicy(
  envelope: common.SignaturePolicyEnvelope,
  signers: readonly VerifiedSigner[],
): boolean {
  const principals = envelope.getIdentitiesList();
  const evaluate = (rule: common.SignaturePolicy, used: boolean[]): boolean => {
    if (rule.hasSignedBy()) {
      const principal = principals[rule.getSignedBy()];
      if (!principal) return false;
      for (let i = 0; i < signers.length; i++) {
        const signer = signers[i];
        if (used[i] || !signer) continue;
        if (satisfiesPrincipal(signer.identity, principal)) {
          used[i] = true;
          return true;
        }
      }
      return false;
    }
    const nOutOf = rule.getNOutOf();
    if (!nOutOf) return false;
    let verified = 0;
    for (const sub of nOutOf.getRulesList()) {
      const attempt = [...used];
      if (evaluate(sub, attempt)) {
        verified++;
        for (let i = 0; i < attempt.length; i++) used[i] = attempt[i] ?? false;
      }
    }
    return verified >= nOutOf.getN();
  };
  const rule = envelope.getRule();
  if (!rule) return false;
  return evaluate(
    rule,
    signers.map(() => false),
  );
}

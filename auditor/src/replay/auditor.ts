import { createHash } from 'node:crypto';
import { common, msp as mspProto, peer } from '@hyperledger/fabric-protos';
import { ChannelConfig, type PolicyVerdict } from '../config/channel-config';
import { describeConfigChanges } from '../config/config-changes';
import { checkConfigUpdate } from '../config/config-update';
import {
  decodeBlock,
  RecordedVerdicts,
  SignatureChecker,
  unwrap,
  type CheckedSignature,
  type DecodedBlock,
  type DecodedOrdererSignatures,
  type DecodedTransaction,
} from '../block/decoded-block';
import { METADATA_INDEX, type RawBlock } from '../block/raw-block';
import type { BlockVerdicts } from '../verify/block-batch';
import { BytesMap, verifyFabricSignature } from '../msp/msp';
import {
  checkSignatures,
  evaluateSignaturePolicy,
  type SignedData,
  type VerifiedSigner,
} from '../policy/policy';
import {
  spaceOf,
  VALIDATION_PARAMETER,
  WorldState,
  type Height,
  type VersionedValue,
} from '../state/world-state';
import {
  computeTxId,
  decodeEndorserTransaction,
  EnvelopeDecodeError,
  type EndorserTransaction,
  type MetadataEntry,
  type NamespaceRwSet,
  type ReadVersion,
} from '../validation/envelope';
import { ANOMALY, type Anomaly, type AnomalyKind } from './anomaly';

const LIFECYCLE = '_lifecycle';
const EMPTY_VALUE_HASH = createHash('sha256').digest();
const PEER_NAMESPACE = '';
const CHANNEL_CONFIG_KEY = 'CHANNEL_CONFIG_ENV_BYTES';
const BLOCK_VALIDATION = '/Channel/Orderer/BlockValidation';
const HEADER_TYPE_CONFIG = common.HeaderType.CONFIG;
const HEADER_TYPE_ENDORSER = common.HeaderType.ENDORSER_TRANSACTION;

const CODE_NAME: Record<number, string> = Object.fromEntries(
  Object.entries(peer.TxValidationCode as unknown as Record<string, number>).map(([name, value]) => [
    value,
    name,
  ]),
);

/** Fabric's name of a validation code byte. */
export function validationCodeNameOf(code: number): string {
  return CODE_NAME[code] ?? `UNKNOWN_${code}`;
}

/** What the audit concluded about one transaction. */
export interface AuditedTransaction {
  readonly block: bigint;
  readonly txIndex: number;
  readonly txId: string;
  readonly type: 'ENDORSER_TRANSACTION' | 'CONFIG' | 'OTHER';
  readonly chaincode: string;
  readonly creatorMspId: string;
  readonly endorserMspIds: readonly string[];
  /** The code the peer wrote in the block's transactions filter. */
  readonly peerCode: string;
  /** The code the auditor recomputed. */
  readonly recomputedCode: string;
  /** Why the recomputed code is not VALID. */
  readonly reason?: string;
  /** Public writes the transaction made when valid: namespace, key, value (undefined: a delete). */
  readonly writes: readonly {
    readonly namespace: string;
    readonly key: string;
    readonly value?: Uint8Array;
  }[];
}

/** How much the audit verifies: everything, or the hash chain and data hashes only (no signatures). */
export type AuditMode = 'full' | 'hashes-only';

/** Options of an {@link Auditor}. */
export interface AuditorOptions {
  /** The one fact pinned out of band: the SHA-256 header hash of the channel's genesis block. */
  readonly genesisHash: Uint8Array;
  readonly mode?: AuditMode;
  readonly onTransaction?: (tx: AuditedTransaction) => void;
  readonly onAnomaly?: (anomaly: Anomaly) => void;
}

interface Verdict {
  code: string;
  reason?: string;
}

interface ChaincodeRules {
  readonly endorsementPolicy: Uint8Array | undefined;
  readonly collectionPolicies: ReadonlyMap<string, Uint8Array | undefined>;
}

/**
 * Replays a channel's blocks from the genesis block, trusting nothing but the pinned genesis hash: the
 * header hash chain, data hashes, orderer signatures, creator and endorser signatures under the channel
 * configuration in force, and Fabric's validation recomputed (endorsement policies at chaincode, key and
 * collection level, MVCC reads against the rebuilt state), compared with each peer-written flag.
 */
export class Auditor {
  readonly state = new WorldState();
  readonly anomalies: Anomaly[] = [];
  readonly #options: AuditorOptions;
  readonly #mode: AuditMode;
  #config: ChannelConfig | undefined;
  #previousHeaderHash: Uint8Array | undefined;
  #previousNumber: bigint | undefined;
  readonly #checker = new SignatureChecker();
  #expected = 0n;
  #blockTime: number | undefined;
  readonly #txIds = new Set<string>();
  readonly #staleListsReported = new Set<string>();
  #transactions = 0;
  #blocks = 0;
  #signatureChecks = 0;
  // Decoded once, used for every transaction: a chaincode's rules are kept with the state values they
  // were decoded from (a redefinition writes new values, so the cache entry no longer matches); decoded
  // policies are kept per policy bytes object (cached bytes, or a key's metadata value, never mutated).
  readonly #rulesCache = new Map<
    string,
    {
      readonly config: ChannelConfig | undefined;
      readonly sources: readonly (VersionedValue | undefined)[];
      readonly rules: ChaincodeRules | undefined;
    }
  >();
  readonly #applicationPolicies = new WeakMap<Uint8Array, peer.ApplicationPolicy | undefined>();
  // Key-level policies by their bytes (each transaction writes its own copy of a few distinct policies).
  readonly #keyPolicies = new Map<string, Uint8Array>();
  #implicitPolicies = new Map<string, Uint8Array>();
  readonly #mspIds = new BytesMap<string>();

  public constructor(options: AuditorOptions) {
    this.#options = options;
    this.#mode = options.mode ?? 'full';
  }

  /** The MSP id a serialized identity names ('' when it does not decode), decoded once per identity. */
  #mspIdOf(serialized: Uint8Array): string {
    let id = this.#mspIds.get(serialized);
    if (id === undefined) {
      id = safeIdentityMsp(serialized);
      this.#mspIds.set(serialized, id);
    }
    return id;
  }

  /** The configuration in force after the blocks seen so far. */
  public get config(): ChannelConfig | undefined {
    return this.#config;
  }

  /** Blocks and transactions replayed so far, and how many signatures were verified. */
  public get counts(): { blocks: number; transactions: number; signatures: number } {
    return { blocks: this.#blocks, transactions: this.#transactions, signatures: this.#signatureChecks };
  }

  /** The next block number the replay expects. */
  public get nextBlock(): bigint {
    return this.#expected;
  }

  #report(kind: AnomalyKind, block: bigint, detail: string, extra: Partial<Anomaly> = {}): void {
    const anomaly: Anomaly = { kind, block, detail, ...extra };
    this.anomalies.push(anomaly);
    this.#options.onAnomaly?.(anomaly);
  }

  /**
   * Decodes a block ahead of its replay (with its signatures verified in full mode, or their verdicts
   * taken from `recorded`, what a worker found for this very block): what {@link processBlock} takes.
   * Pure: it reads neither the state nor the configuration, so blocks can be decoded in any order, with
   * the same result.
   */
  public prepareBlock(block: RawBlock, recorded?: BlockVerdicts): DecodedBlock {
    if (this.#mode !== 'full') return decodeBlock(block, undefined);
    if (!recorded) return decodeBlock(block, this.#checker);
    return decodeBlock(block, new RecordedVerdicts(recorded.verdicts, this.#checker), recorded.dataHash);
  }

  /**
   * Replays one block; every failure becomes an anomaly. `prepared` (this very block decoded by
   * {@link prepareBlock}, possibly with a worker's verdicts) saves decoding it here.
   */
  public processBlock(block: RawBlock, prepared?: DecodedBlock): void {
    const ready =
      prepared?.number === block.number && prepared.envelopes === block.data.length
        ? prepared
        : this.prepareBlock(block);
    this.#blocks++;
    this.#blockTime = blockTimeOf(ready, this.#blockTime);
    if (block.number !== this.#expected) {
      this.#report(
        ANOMALY.BLOCK_NUMBER_GAP,
        block.number,
        `expected block ${this.#expected}, found block ${block.number}`,
      );
    }
    if (block.number === 0n && this.#previousHeaderHash === undefined) {
      const hash = Buffer.from(ready.headerHash);
      if (!hash.equals(Buffer.from(this.#options.genesisHash)))
        this.#report(
          ANOMALY.GENESIS_MISMATCH,
          0n,
          `genesis header hash ${hash.toString('hex')} is not the pinned ${Buffer.from(this.#options.genesisHash).toString('hex')}`,
        );
    } else if (this.#previousHeaderHash) {
      const prev = Buffer.from(this.#previousHeaderHash);
      if (!prev.equals(Buffer.from(block.previousHash)))
        this.#report(
          ANOMALY.HASH_CHAIN_BROKEN,
          block.number,
          `previous hash ${Buffer.from(block.previousHash).toString('hex')} is not the header hash ${prev.toString('hex')} of block ${this.#previousNumber}`,
        );
    } else {
      this.#report(ANOMALY.HASH_CHAIN_BROKEN, block.number, 'the replay does not start at the genesis block');
    }
    const dataHash = Buffer.from(ready.dataHash);
    if (!dataHash.equals(Buffer.from(block.dataHash)))
      this.#report(
        ANOMALY.DATA_HASH_MISMATCH,
        block.number,
        `data hash in the header ${Buffer.from(block.dataHash).toString('hex')} is not the hash of the envelopes ${dataHash.toString('hex')}`,
      );
    if (this.#mode === 'full') this.#reportStaleRevocationLists(block.number);
    if (block.number > 0n && this.#mode === 'full') {
      try {
        this.#verifyOrdererSignatures(block, ready.orderer);
      } catch (err) {
        this.#report(
          ANOMALY.BLOCK_UNPARSABLE,
          block.number,
          `the orderer signatures do not decode: ${(err as Error).message}`,
        );
      }
    }
    this.#processTransactions(block, ready);
    this.#previousHeaderHash = ready.headerHash;
    this.#previousNumber = block.number;
    this.#expected = block.number + 1n;
  }

  // A CRL past its nextUpdate is reported, not failed closed on: Fabric keeps using it, so refusing every
  // identity of the org would turn each of its transactions into a flag mismatch and hide the one fact
  // that matters — from this block on, the ledger does not carry the org's latest revocations.
  #reportStaleRevocationLists(block: bigint): void {
    const config = this.#config;
    const at = this.#blockTime;
    if (!config || at === undefined) return;
    for (const stale of config.msps.staleRevocationLists(at)) {
      const key = `${stale.mspId}\u0000${stale.index}\u0000${stale.nextUpdate}`;
      if (this.#staleListsReported.has(key)) continue;
      this.#staleListsReported.add(key);
      this.#report(
        ANOMALY.REVOCATION_LIST_STALE,
        block,
        `${stale.mspId}: revocation list ${stale.index} was to be replaced by ${new Date(stale.nextUpdate).toISOString()} (its nextUpdate), before the block time ${new Date(at).toISOString()}; identities are still checked against it`,
        { orgs: [stale.mspId] },
      );
    }
  }

  #verifyOrdererSignatures(block: RawBlock, prepared: DecodedOrdererSignatures | undefined): void {
    const config = this.#config;
    if (!config) {
      this.#report(
        ANOMALY.ORDERER_SIGNATURES_INVALID,
        block.number,
        'no channel configuration to verify against',
      );
      return;
    }
    const orderer = prepared ?? { kind: 'error', message: 'the block was not decoded' };
    if (orderer.kind === 'metadata-unparsable') {
      this.#report(ANOMALY.BLOCK_UNPARSABLE, block.number, 'the SIGNATURES metadata does not decode');
      return;
    }
    if (orderer.kind === 'error') throw new Error(orderer.message);
    const signed = orderer.signed;
    this.#signatureChecks += signed.length;
    const check = checkSignatures(signed, config.msps, this.#blockTime);
    const verdict = config.evaluatePath(BLOCK_VALIDATION, check.valid);
    if (!verdict.ok)
      this.#report(
        ANOMALY.ORDERER_SIGNATURES_INVALID,
        block.number,
        `${signed.length} orderer signature(s), ${check.valid.length} valid: ${verdict.reason}${check.refused.length ? `; refused: ${check.refused.map((r) => r.reason).join('; ')}` : ''}`,
        { orgs: check.valid.map((v) => v.identity.mspId) },
      );
  }

  #processTransactions(block: RawBlock, prepared: DecodedBlock): void {
    const flags = block.metadata[METADATA_INDEX.TRANSACTIONS_FILTER];
    if (!flags || flags.length !== block.data.length)
      this.#report(
        ANOMALY.VALIDATION_FLAGS_MALFORMED,
        block.number,
        `the transactions filter has ${flags?.length ?? 0} flags for ${block.data.length} envelopes`,
      );
    const vpUpdatedInBlock = new Set<string>();
    block.data.forEach((_item, txIndex) => {
      this.#transactions++;
      const peerCode = flags?.[txIndex] === undefined ? 'MISSING' : validationCodeNameOf(flags[txIndex]);
      const ahead = prepared.transactions[txIndex];
      if (ahead) this.#processTransaction(block, txIndex, ahead, peerCode, vpUpdatedInBlock);
    });
  }

  #processTransaction(
    block: RawBlock,
    txIndex: number,
    prepared: DecodedTransaction,
    peerCode: string,
    vpUpdatedInBlock: Set<string>,
  ): void {
    let txId = '';
    let type: AuditedTransaction['type'] = 'OTHER';
    let chaincode = '';
    let creatorMspId = '';
    let endorserMspIds: string[] = [];
    let writes: AuditedTransaction['writes'] = [];
    let verdict: Verdict;
    try {
      const env = unwrap(prepared.envelope);
      txId = env.txId;
      // The genesis block is trusted by its pinned hash; configtxgen writes it without creator or nonce.
      if (block.number > 0n && (env.creator.length === 0 || env.nonce.length === 0))
        throw new EnvelopeDecodeError('BAD_COMMON_HEADER', 'the signature header has no creator or no nonce');
      const sid = this.#mspIdOf(env.creator);
      creatorMspId = sid;
      if (env.type === HEADER_TYPE_CONFIG) {
        type = 'CONFIG';
        verdict = this.#processConfig(
          block,
          txIndex,
          env.payloadData,
          env.creator,
          env.payload,
          env.signature,
          prepared.creator,
          env.channelId,
        );
      } else if (env.type === HEADER_TYPE_ENDORSER) {
        type = 'ENDORSER_TRANSACTION';
        verdict = this.#checkCreator(env.creator, env.payload, env.signature, prepared.creator);
        if (verdict.code === 'VALID' && computeTxId(env.nonce, env.creator) !== env.txId)
          verdict = {
            code: 'BAD_PROPOSAL_TXID',
            reason: 'the transaction id is not SHA-256(nonce || creator)',
          };
        let tx: EndorserTransaction | undefined;
        {
          try {
            tx = prepared.endorserTransaction
              ? unwrap(prepared.endorserTransaction)
              : decodeEndorserTransaction(env);
          } catch (err) {
            verdict = {
              code: err instanceof EnvelopeDecodeError ? err.code : 'INVALID_ENDORSER_TRANSACTION',
              reason: `the endorser transaction does not decode: ${(err as Error).message}`,
            };
          }
        }
        if (tx) {
          chaincode = tx.chaincode;
          endorserMspIds = tx.endorsements.map((e) => this.#mspIdOf(e.endorser));
          // Every endorsement signature is checked and a bad one reported, whatever the verdict comes to.
          const endorsers =
            this.#mode === 'full'
              ? this.#checkEndorsements(block, txIndex, env.txId, tx, prepared.endorsements)
              : undefined;
          if (verdict.code === 'VALID' && tx.malformed)
            verdict = { code: 'INVALID_ENDORSER_TRANSACTION', reason: tx.malformed };
          if (verdict.code === 'VALID' && this.#txIds.has(env.txId))
            verdict = { code: 'DUPLICATE_TXID', reason: `transaction id ${env.txId} was seen before` };
          if (this.#mode === 'hashes-only') verdict = { code: peerCode };
          else {
            if (verdict.code === 'VALID')
              verdict = this.#endorsementVerdict(tx, endorsers ?? [], vpUpdatedInBlock);
            if (verdict.code === 'VALID') verdict = this.#mvccVerdict(tx);
          }
          if (verdict.code === 'VALID') writes = this.#apply(tx, { block: block.number, tx: txIndex });
        }
      } else {
        verdict = { code: 'UNSUPPORTED_TX_PAYLOAD', reason: `header type ${env.type}` };
      }
      this.#txIds.add(env.txId);
    } catch (err) {
      if (err instanceof EnvelopeDecodeError) verdict = { code: err.code, reason: err.message };
      else {
        verdict = { code: 'INVALID_OTHER_REASON', reason: `does not decode: ${(err as Error).message}` };
        this.#report(
          ANOMALY.BLOCK_UNPARSABLE,
          block.number,
          `envelope ${txIndex} does not decode: ${(err as Error).message}`,
          { txIndex },
        );
      }
    }
    if (verdict.code !== peerCode)
      this.#report(
        ANOMALY.VALIDATION_FLAG_MISMATCH,
        block.number,
        `the peer flagged ${peerCode}, the recomputed verdict is ${verdict.code}${verdict.reason ? ` (${verdict.reason})` : ''}`,
        { txIndex, txId, orgs: endorserMspIds },
      );
    this.#options.onTransaction?.({
      block: block.number,
      txIndex,
      txId,
      type,
      chaincode,
      creatorMspId,
      endorserMspIds,
      peerCode,
      recomputedCode: verdict.code,
      ...(verdict.reason === undefined ? {} : { reason: verdict.reason }),
      writes,
    });
  }

  #checkCreator(
    creator: Uint8Array,
    payload: Uint8Array,
    signature: Uint8Array,
    checked: CheckedSignature | undefined,
  ): Verdict {
    if (this.#mode === 'hashes-only') return { code: 'VALID' };
    const config = this.#config;
    if (!config) return { code: 'BAD_CREATOR_SIGNATURE', reason: 'no channel configuration' };
    const id = config.msps.identity(creator, this.#blockTime);
    if (!id.ok) return { code: 'BAD_CREATOR_SIGNATURE', reason: `creator: ${id.reason}` };
    this.#signatureChecks++;
    // A signature checked while decoding was verified under this very identity's key (undefined: unreadable key).
    const verified = checked
      ? checked.verified === true
      : verifyFabricSignature(id.identity.publicKey, payload, signature);
    if (!verified)
      return {
        code: 'BAD_CREATOR_SIGNATURE',
        reason: `the creator's (${id.identity.mspId}) signature does not verify`,
      };
    return { code: 'VALID' };
  }

  #processConfig(
    block: RawBlock,
    txIndex: number,
    payloadData: Uint8Array,
    creator: Uint8Array,
    payload: Uint8Array,
    signature: Uint8Array,
    checked: CheckedSignature | undefined,
    channelId: string,
  ): Verdict {
    let next: ChannelConfig;
    try {
      next = ChannelConfig.fromConfigEnvelope(payloadData, block.number);
    } catch (err) {
      return {
        code: 'INVALID_CONFIG_TRANSACTION',
        reason: `the config envelope does not decode: ${(err as Error).message}`,
      };
    }
    if (block.data.length !== 1)
      return { code: 'INVALID_CONFIG_TRANSACTION', reason: 'a config block must hold exactly one envelope' };
    if (block.number > 0n) {
      // A config transaction is signed by an orderer of the configuration it replaces.
      const creatorCheck = this.#checkCreator(creator, payload, signature, checked);
      if (creatorCheck.code !== 'VALID')
        return { code: 'INVALID_CONFIG_TRANSACTION', reason: creatorCheck.reason ?? '' };
      // The update must be authorized by the configuration it replaces (Fabric's configtx validation).
      const previous = this.#config;
      const update = previous
        ? checkConfigUpdate(
            previous,
            common.ConfigEnvelope.deserializeBinary(payloadData),
            channelId,
            this.#blockTime,
          )
        : { ok: false as const, reason: 'no channel configuration to check the update against' };
      if (!update.ok) {
        this.#report(ANOMALY.CONFIG_UPDATE_UNAUTHORIZED, block.number, update.reason, { txIndex });
        return { code: 'INVALID_CONFIG_TRANSACTION', reason: update.reason };
      }
      // What the update changed, in the terms of the values it changed (addresses, batch size, anchor peers…).
      const changes = previous ? describeConfigChanges(previous.config, next.config) : [];
      this.#report(
        ANOMALY.CONFIG_UPDATE,
        block.number,
        `configuration changed at block ${block.number}: ${changes.join('; ')}`,
        { txIndex, orgs: next.orgs.map((o) => o.mspId) },
      );
    }
    this.#config = next;
    this.#implicitPolicies = new Map();
    // Fabric's peer records each CONFIG transaction as a write of its ConfigEnvelope to the peer's own
    // namespace '' (core/peer/configtx_processor.go), so the rebuilt state holds it too.
    this.state.put(spaceOf(PEER_NAMESPACE), CHANNEL_CONFIG_KEY, {
      value: payloadData,
      version: { block: block.number, tx: txIndex },
      metadata: undefined,
    });
    return { code: 'VALID' };
  }

  #evaluateApplicationPolicy(policyBytes: Uint8Array, signers: readonly VerifiedSigner[]): PolicyVerdict {
    const config = this.#config;
    if (!config) return { ok: false, reason: 'no channel configuration' };
    let policy: peer.ApplicationPolicy | undefined;
    if (this.#applicationPolicies.has(policyBytes)) policy = this.#applicationPolicies.get(policyBytes);
    else {
      try {
        policy = peer.ApplicationPolicy.deserializeBinary(policyBytes);
      } catch {
        policy = undefined;
      }
      this.#applicationPolicies.set(policyBytes, policy);
    }
    if (!policy) return { ok: false, reason: 'the endorsement policy does not decode' };
    if (policy.hasSignaturePolicy()) {
      const envelope = policy.getSignaturePolicy();
      return envelope && evaluateSignaturePolicy(envelope, signers)
        ? { ok: true }
        : { ok: false, reason: 'signature policy not satisfied' };
    }
    const ref = policy.getChannelConfigPolicyReference();
    if (ref) return config.evaluatePath(ref, signers);
    return { ok: false, reason: 'empty endorsement policy' };
  }

  #lifecycleField(chaincode: string, field: string): Uint8Array | undefined {
    const v = this.state.get(spaceOf(LIFECYCLE), `namespaces/fields/${chaincode}/${field}`);
    if (!v) return undefined;
    const data = peerLifecycleStateData(v.value);
    return data;
  }

  #chaincodeRules(namespace: string): ChaincodeRules | undefined {
    const lifecycle = spaceOf(LIFECYCLE);
    const sources =
      namespace === LIFECYCLE
        ? []
        : [
            this.state.get(lifecycle, `namespaces/metadata/${namespace}`),
            this.state.get(lifecycle, `namespaces/fields/${namespace}/ValidationInfo`),
            this.state.get(lifecycle, `namespaces/fields/${namespace}/Collections`),
          ];
    const cached = this.#rulesCache.get(namespace);
    if (
      cached &&
      cached.config === this.#config &&
      cached.sources.length === sources.length &&
      cached.sources.every((v, i) => v === sources[i])
    )
      return cached.rules;
    const rules = this.#decodeChaincodeRules(namespace);
    this.#rulesCache.set(namespace, { config: this.#config, sources, rules });
    return rules;
  }

  #decodeChaincodeRules(namespace: string): ChaincodeRules | undefined {
    const config = this.#config;
    if (namespace === LIFECYCLE) {
      const lifecyclePolicy = new peer.ApplicationPolicy();
      lifecyclePolicy.setChannelConfigPolicyReference(
        config?.hasPolicy('/Channel/Application/LifecycleEndorsement') === false
          ? '/Channel/Application/Endorsement'
          : '/Channel/Application/LifecycleEndorsement',
      );
      return { endorsementPolicy: lifecyclePolicy.serializeBinary(), collectionPolicies: new Map() };
    }
    if (!this.state.get(spaceOf(LIFECYCLE), `namespaces/metadata/${namespace}`)) return undefined;
    const validationInfo = this.#lifecycleField(namespace, 'ValidationInfo');
    const endorsementPolicy = validationInfo
      ? peer.lifecycle.ChaincodeValidationInfo.deserializeBinary(validationInfo).getValidationParameter_asU8()
      : undefined;
    const collectionPolicies = new Map<string, Uint8Array | undefined>();
    const collections = this.#lifecycleField(namespace, 'Collections');
    if (collections) {
      for (const c of peer.CollectionConfigPackage.deserializeBinary(collections).getConfigList()) {
        const s = c.getStaticCollectionConfig();
        if (!s) continue;
        const ep = s.getEndorsementPolicy();
        let bytes: Uint8Array | undefined;
        if (ep?.hasSignaturePolicy() || ep?.getChannelConfigPolicyReference()) {
          const app = new peer.ApplicationPolicy();
          if (ep.hasSignaturePolicy()) app.setSignaturePolicy(ep.getSignaturePolicy());
          else app.setChannelConfigPolicyReference(ep.getChannelConfigPolicyReference());
          bytes = app.serializeBinary();
        }
        collectionPolicies.set(s.getName(), bytes);
      }
    }
    return { endorsementPolicy, collectionPolicies };
  }

  #collectionPolicy(
    namespace: string,
    collection: string,
    rules: ChaincodeRules,
  ): Uint8Array | undefined | null {
    const implicit = /^_implicit_org_(.+)$/.exec(collection);
    if (implicit?.[1] !== undefined) {
      const mspId = implicit[1];
      const cached = this.#implicitPolicies.get(mspId);
      if (cached) return cached;
      const orgName = this.#config?.applicationOrgName(mspId);
      const policy = new peer.ApplicationPolicy();
      if (orgName && this.#config?.hasPolicy(`/Channel/Application/${orgName}/Endorsement`))
        policy.setChannelConfigPolicyReference(`/Channel/Application/${orgName}/Endorsement`);
      else policy.setSignaturePolicy(signedByAnyMember(mspId));
      const bytes = policy.serializeBinary();
      this.#implicitPolicies.set(mspId, bytes);
      return bytes;
    }
    if (!rules.collectionPolicies.has(collection)) return null; // no such collection
    return rules.collectionPolicies.get(collection) ?? rules.endorsementPolicy;
  }

  #checkEndorsements(
    block: RawBlock,
    txIndex: number,
    txId: string,
    tx: EndorserTransaction,
    prepared: readonly CheckedSignature[] | undefined,
  ): VerifiedSigner[] {
    const config = this.#config;
    if (!config) return [];
    const signed: readonly (SignedData | CheckedSignature)[] =
      prepared ??
      tx.endorsements.map((e) => ({
        identity: e.endorser,
        data: Buffer.concat([tx.proposalResponsePayload, e.endorser]),
        signature: e.signature,
      }));
    this.#signatureChecks += signed.length;
    const check = checkSignatures(signed, config.msps, this.#blockTime);
    for (const refused of check.refused)
      this.#report(
        ANOMALY.ENDORSEMENT_SIGNATURE_INVALID,
        block.number,
        `endorsement ${refused.index}: ${refused.reason}`,
        {
          txIndex,
          txId,
          orgs: [safeIdentityMsp(tx.endorsements[refused.index]?.endorser ?? new Uint8Array())],
        },
      );
    return [...check.valid];
  }

  #endorsementVerdict(
    tx: EndorserTransaction,
    signers: readonly VerifiedSigner[],
    vpUpdatedInBlock: Set<string>,
  ): Verdict {
    const namespaces = new Set<string>([tx.chaincode]);
    const seen = new Set<string>();
    for (const ns of tx.rwsets) {
      if (seen.has(ns.namespace))
        return { code: 'ILLEGAL_WRITESET', reason: `namespace ${ns.namespace} twice` };
      seen.add(ns.namespace);
      if (writesTo(ns)) namespaces.add(ns.namespace);
    }
    const dependencies: string[] = [];
    for (const namespace of [...namespaces].sort()) {
      const rules = this.#chaincodeRules(namespace);
      if (!rules)
        return { code: 'NOT_RECOMPUTABLE', reason: `chaincode ${namespace} has no committed definition` };
      const result = this.#evaluateNamespace(namespace, tx, rules, signers, vpUpdatedInBlock);
      if (!result.ok) return { code: 'ENDORSEMENT_POLICY_FAILURE', reason: result.reason };
      dependencies.push(namespace);
    }
    // Key-level policies changed by this transaction block later transactions of the block on those keys.
    for (const ns of tx.rwsets) {
      for (const m of ns.metadataWrites) vpUpdatedInBlock.add(`${spaceOf(ns.namespace)}\u0001${m.key}`);
      for (const c of ns.collections)
        for (const m of c.metadataWrites)
          vpUpdatedInBlock.add(`${spaceOf(ns.namespace, c.name)}\u0001${m.keyHash}`);
    }
    return { code: 'VALID' };
  }

  #evaluateNamespace(
    namespace: string,
    tx: EndorserTransaction,
    rules: ChaincodeRules,
    signers: readonly VerifiedSigner[],
    vpUpdatedInBlock: ReadonlySet<string>,
  ): PolicyVerdict {
    const checked = new Set<string>();
    const progress = { someChecked: false };
    const checkEp = (collection: string): PolicyVerdict => {
      if (collection !== '') {
        if (checked.has(`c:${collection}`)) return { ok: true };
        const policy = this.#collectionPolicy(namespace, collection, rules);
        if (policy === null)
          return { ok: false, reason: `no such collection '${collection}' in ${namespace}` };
        if (policy !== undefined && policy !== rules.endorsementPolicy) {
          const r = this.#evaluateApplicationPolicy(policy, signers);
          if (!r.ok) return { ok: false, reason: `collection ${collection} of ${namespace}: ${r.reason}` };
          checked.add(`c:${collection}`);
          progress.someChecked = true;
          return r;
        }
      }
      if (checked.has('')) return { ok: true };
      if (!rules.endorsementPolicy) return { ok: false, reason: `${namespace} has no endorsement policy` };
      const r = this.#evaluateApplicationPolicy(rules.endorsementPolicy, signers);
      if (!r.ok) return { ok: false, reason: `chaincode ${namespace}: ${r.reason}` };
      checked.add('');
      progress.someChecked = true;
      return r;
    };
    const checkKey = (collection: string, key: string): PolicyVerdict => {
      const space = spaceOf(namespace, collection);
      if (vpUpdatedInBlock.has(`${space}\u0001${key}`))
        return { ok: false, reason: `the key-level policy of ${key} was changed earlier in this block` };
      const vp = this.state.get(space, key)?.metadata?.get(VALIDATION_PARAMETER);
      if (!vp || vp.length === 0) return checkEp(collection);
      const vpKey = Buffer.from(vp.buffer, vp.byteOffset, vp.byteLength).toString('latin1');
      let policyBytes = this.#keyPolicies.get(vpKey);
      if (!policyBytes) {
        const policy = new peer.ApplicationPolicy();
        policy.setSignaturePolicy(common.SignaturePolicyEnvelope.deserializeBinary(vp));
        policyBytes = policy.serializeBinary();
        this.#keyPolicies.set(vpKey, policyBytes);
      }
      const r = this.#evaluateApplicationPolicy(policyBytes, signers);
      if (!r.ok)
        return {
          ok: false,
          reason: `key-level policy of ${collection ? `${collection}/` : ''}${printable(key)}: ${r.reason}`,
        };
      progress.someChecked = true;
      return r;
    };
    for (const ns of tx.rwsets) {
      if (ns.namespace !== namespace) continue;
      for (const w of ns.writes) {
        const r = checkKey('', w.key);
        if (!r.ok) return r;
      }
      for (const w of ns.metadataWrites) {
        const r = checkKey('', w.key);
        if (!r.ok) return r;
      }
      for (const c of ns.collections) {
        for (const w of c.hashedWrites) {
          const r = checkKey(c.name, w.keyHash);
          if (!r.ok) return r;
        }
      }
      for (const c of ns.collections) {
        for (const w of c.metadataWrites) {
          const r = checkKey(c.name, w.keyHash);
          if (!r.ok) return r;
        }
      }
    }
    if (!progress.someChecked) return checkEp('');
    return { ok: true };
  }

  #mvccVerdict(tx: EndorserTransaction): Verdict {
    for (const ns of tx.rwsets) {
      const space = spaceOf(ns.namespace);
      for (const read of ns.reads) {
        const current = this.state.get(space, read.key);
        if (!sameVersion(current?.version, read.version))
          return {
            code: 'MVCC_READ_CONFLICT',
            reason: `${ns.namespace} key ${printable(read.key)} read at ${versionText(read.version)}, now at ${current ? `${current.version.block}:${current.version.tx}` : 'absent'}`,
          };
      }
      for (const rq of ns.rangeQueries) {
        if (!rq.rawReads)
          return {
            code: 'NOT_RECOMPUTABLE',
            reason: `${ns.namespace} range query recorded as Merkle hashes only`,
          };
        const exhausted = rq.itrExhausted;
        const results = this.state.range(space, rq.startKey, rq.endKey, !exhausted);
        const reads = rq.rawReads;
        for (let i = 0; i < reads.length; i++) {
          const read = reads[i];
          const result = results[i];
          if (!read || !result || result[0] !== read.key || !sameVersion(result[1].version, read.version))
            return {
              code: 'PHANTOM_READ_CONFLICT',
              reason: `${ns.namespace} range [${printable(rq.startKey)}, ${printable(rq.endKey)}) changed at result ${i}`,
            };
        }
        if (exhausted && results.length > reads.length)
          return {
            code: 'PHANTOM_READ_CONFLICT',
            reason: `${ns.namespace} range [${printable(rq.startKey)}, ${printable(rq.endKey)}) has new keys`,
          };
      }
      for (const c of ns.collections) {
        const cspace = spaceOf(ns.namespace, c.name);
        for (const read of c.hashedReads) {
          const current = this.state.get(cspace, read.keyHash);
          if (!sameVersion(current?.version, read.version))
            return {
              code: 'MVCC_READ_CONFLICT',
              reason: `${ns.namespace}/${c.name} hashed key ${read.keyHash} read at ${versionText(read.version)}`,
            };
        }
      }
    }
    return { code: 'VALID' };
  }

  #apply(tx: EndorserTransaction, height: Height): AuditedTransaction['writes'] {
    const writes: { namespace: string; key: string; value?: Uint8Array }[] = [];
    const applyOne = (
      space: string,
      key: string,
      write: { value: Uint8Array; isDelete: boolean } | undefined,
      metadata: ReadonlyMap<string, Uint8Array> | null | undefined,
    ): void => {
      const current = this.state.get(space, key);
      if (write?.isDelete) {
        this.state.delete(space, key);
        return;
      }
      if (write) {
        const next: VersionedValue = {
          value: write.value,
          version: height,
          metadata: metadata === undefined ? current?.metadata : metadata === null ? undefined : metadata,
        };
        this.state.put(space, key, next);
        return;
      }
      // A metadata-only write changes an existing key's metadata and version; on an absent key it is void.
      if (current)
        this.state.put(space, key, {
          value: current.value,
          version: height,
          metadata: metadata ?? undefined,
        });
    };
    for (const ns of tx.rwsets) {
      const space = spaceOf(ns.namespace);
      const byKey = new Map<
        string,
        {
          write?: { value: Uint8Array; isDelete: boolean };
          metadata?: ReadonlyMap<string, Uint8Array> | null;
        }
      >();
      for (const w of ns.writes) {
        // Fabric (rwsetutil.IsKVWriteDelete): a write of an empty value is a delete.
        const isDelete = w.isDelete || w.value.length === 0;
        byKey.set(w.key, { ...byKey.get(w.key), write: { value: w.value, isDelete } });
        writes.push({ namespace: ns.namespace, key: w.key, ...(isDelete ? {} : { value: w.value }) });
      }
      for (const m of ns.metadataWrites)
        byKey.set(m.key, { ...byKey.get(m.key), metadata: metadataMap(m.entries) });
      for (const [key, op] of byKey) applyOne(space, key, op.write, op.metadata);
      for (const c of ns.collections) {
        const cspace = spaceOf(ns.namespace, c.name);
        const hashed = new Map<
          string,
          {
            write?: { value: Uint8Array; isDelete: boolean };
            metadata?: ReadonlyMap<string, Uint8Array> | null;
          }
        >();
        for (const w of c.hashedWrites) {
          const key = w.keyHash;
          hashed.set(key, {
            ...hashed.get(key),
            // Fabric (IsKVWriteHashDelete): an empty value hash or the hash of an empty value is a delete.
            write: {
              value: w.valueHash,
              isDelete:
                w.isDelete || w.valueHash.length === 0 || Buffer.from(w.valueHash).equals(EMPTY_VALUE_HASH),
            },
          });
        }
        for (const m of c.metadataWrites)
          hashed.set(m.keyHash, { ...hashed.get(m.keyHash), metadata: metadataMap(m.entries) });
        for (const [key, op] of hashed) applyOne(cspace, key, op.write, op.metadata);
      }
    }
    return writes;
  }
}

/**
 * The time certificates are checked at in a block: the latest channel-header timestamp of its
 * transactions and of every block before it. Blocks carry no time of their own; a monotonic bound means
 * that a signer cannot move its own transaction before a time the chain has already reached.
 */
function blockTimeOf(prepared: DecodedBlock, previous: number | undefined): number | undefined {
  let time = previous;
  for (const tx of prepared.transactions) {
    if ('error' in tx.envelope) continue;
    const ms = tx.envelope.value.timestampMs;
    if (ms === undefined) continue;
    if (Number.isFinite(ms) && (time === undefined || ms > time)) time = ms;
  }
  return time;
}

function metadataMap(entries: readonly MetadataEntry[]): ReadonlyMap<string, Uint8Array> | null {
  if (entries.length === 0) return null; // Fabric: a metadata write without entries deletes the metadata
  return new Map(entries.map((e) => [e.name, e.value]));
}

function writesTo(ns: NamespaceRwSet): boolean {
  if (ns.writes.length > 0 || ns.metadataWrites.length > 0) return true;
  return ns.collections.some((c) => c.hashedWrites.length > 0 || c.metadataWrites.length > 0);
}

function sameVersion(current: Height | undefined, read: ReadVersion | undefined): boolean {
  if (!current || !read) return !current && !read;
  return current.block === BigInt(read.blockNum) && current.tx === read.txNum;
}

function versionText(v: ReadVersion | undefined): string {
  return v ? `${v.blockNum}:${v.txNum}` : 'absent';
}

/** A key with its control characters (composite key separators) made visible. */
export function printable(key: string): string {
  return key.replace(/\p{Cc}/gu, (c) =>
    c === '\u0000' ? '·' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}

function safeIdentityMsp(serialized: Uint8Array): string {
  try {
    return mspProto.SerializedIdentity.deserializeBinary(serialized).getMspid();
  } catch {
    return '';
  }
}

function peerLifecycleStateData(bytes: Uint8Array): Uint8Array | undefined {
  try {
    return peer.lifecycle.StateData.deserializeBinary(bytes).getBytes_asU8();
  } catch {
    return undefined;
  }
}

function signedByAnyMember(mspId: string): common.SignaturePolicyEnvelope {
  const role = new mspProto.MSPRole();
  role.setMspIdentifier(mspId);
  role.setRole(mspProto.MSPRole.MSPRoleType.MEMBER);
  const principal = new mspProto.MSPPrincipal();
  principal.setPrincipalClassification(mspProto.MSPPrincipal.Classification.ROLE);
  principal.setPrincipal(role.serializeBinary());
  const signedBy = new common.SignaturePolicy();
  signedBy.setSignedBy(0);
  const nOutOf = new common.SignaturePolicy.NOutOf();
  nOutOf.setN(1);
  nOutOf.setRulesList([signedBy]);
  const rule = new common.SignaturePolicy();
  rule.setNOutOf(nOutOf);
  const envelope = new common.SignaturePolicyEnvelope();
  envelope.setRule(rule);
  envelope.setIdentitiesList([principal]);
  return envelope;
}

import type { KeyObject } from 'node:crypto';
import { BytesMap } from '../msp/bytes-map';
import { publicKeyOfIdentity, verifyFabricSignature } from '../msp/fabric-signature';
import { WireReader } from '../validation/wire';
import {
  decodeEndorserTransaction,
  decodeEnvelope,
  EnvelopeDecodeError,
  type DecodedEnvelope,
  type EndorserTransaction,
} from '../validation/envelope';
import { blockDataHash, blockHeaderBytes, blockHeaderHash, METADATA_INDEX, type RawBlock } from './raw-block';

// common.HeaderType values (common/common.proto).
const HEADER_TYPE_CONFIG = 1;
const HEADER_TYPE_ENDORSER_TRANSACTION = 3;

// A block decoded ahead of its replay: everything that depends on the block alone (hashes, envelopes,
// read-write sets, whether each signature verifies under its identity's key), nothing that depends on the
// state or the configuration in force. It is plain data so it can be made on a worker thread and sent
// to the replay by structured clone; the replay decides, in block order, what each part means.

/** Why a part did not decode: the validation code Fabric gives it (when the decoder named one) and why. */
export interface DecodeFailure {
  readonly code: string | undefined;
  readonly message: string;
}

/** Something decoded, or why it did not decode. */
export type Decoded<T> = { readonly value: T } | { readonly error: DecodeFailure };

/**
 * One signature with whether it verifies over its signed bytes under the public key of its identity's
 * certificate (undefined: the identity holds no readable certificate). Whether the identity is a member
 * of the channel is not decided here.
 */
export interface CheckedSignature {
  readonly identity: Uint8Array;
  readonly verified: boolean | undefined;
}

/** The orderers' signatures of a block, or why they could not be read. */
export type DecodedOrdererSignatures =
  | { readonly kind: 'signed'; readonly signed: readonly CheckedSignature[] }
  | { readonly kind: 'metadata-unparsable' }
  | { readonly kind: 'error'; readonly message: string };

/** One envelope of a block, decoded. */
export interface DecodedTransaction {
  readonly envelope: Decoded<DecodedEnvelope>;
  /** The creator's signature over the payload (endorser transactions, config transactions after block 0). */
  readonly creator?: CheckedSignature;
  readonly endorserTransaction?: Decoded<EndorserTransaction>;
  /** Each endorsement's signature over `proposalResponsePayload || endorser`, in order. */
  readonly endorsements?: readonly CheckedSignature[];
}

/** A block decoded ahead of its replay ({@link decodeBlock}). */
export interface DecodedBlock {
  readonly number: bigint;
  readonly envelopes: number;
  /** SHA-256 of the block's header DER: what the next block must name as its previous hash. */
  readonly headerHash: Uint8Array;
  /** SHA-256 over the block's envelopes as they are (to compare with the header's data hash). */
  readonly dataHash: Uint8Array;
  /** Undefined for block 0 and when signatures are not checked. */
  readonly orderer: DecodedOrdererSignatures | undefined;
  readonly transactions: readonly DecodedTransaction[];
}

function failureOf(error: unknown): DecodeFailure {
  if (error instanceof EnvelopeDecodeError) return { code: error.code, message: error.message };
  return { code: undefined, message: error instanceof Error ? error.message : String(error) };
}

function decoded<T>(decode: () => T): Decoded<T> {
  try {
    return { value: decode() };
  } catch (error) {
    return { error: failureOf(error) };
  }
}

/** The decoded value, or throws what its decoder threw (an {@link EnvelopeDecodeError} when it named a code). */
export function unwrap<T>(d: Decoded<T>): T {
  if ('error' in d) {
    if (d.error.code !== undefined) throw new EnvelopeDecodeError(d.error.code, d.error.message);
    throw new Error(d.error.message);
  }
  return d.value;
}

// A fresh 32-byte array: a digest Buffer may be a slice of Node's shared pool, which structured clone
// would copy whole.
function ownBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

/** What {@link decodeBlock} asks for each signature, in block order. `signed` are the signed bytes' parts. */
export interface SignatureVerdicts {
  check(identity: Uint8Array, signed: readonly Uint8Array[], signature: Uint8Array): CheckedSignature;
}

/**
 * Verifies signatures for {@link decodeBlock} as `verifyFabricSignature` does, with each identity's public
 * key read once.
 */
export class SignatureChecker implements SignatureVerdicts {
  readonly #keys = new BytesMap<KeyObject | null>();

  public check(identity: Uint8Array, signed: readonly Uint8Array[], signature: Uint8Array): CheckedSignature {
    let key = this.#keys.get(identity);
    if (key === undefined) {
      key = publicKeyOfIdentity(identity) ?? null;
      this.#keys.set(identity, key);
    }
    if (key === null) return { identity, verified: undefined };
    const data = signed.length === 1 && signed[0] ? signed[0] : Buffer.concat(signed);
    return { identity, verified: verifyFabricSignature(key, data, signature) };
  }
}

/** A verdict as one byte: what a worker sends back for each signature of a block, in block order. */
export const VERDICT = { INVALID: 0, VALID: 1, NO_KEY: 2 } as const;

/** Verifies like a {@link SignatureChecker} and records each verdict as a {@link VERDICT} byte. */
export class RecordingChecker implements SignatureVerdicts {
  readonly verdicts: number[] = [];
  readonly #checker: SignatureChecker;

  public constructor(checker: SignatureChecker) {
    this.#checker = checker;
  }

  public check(identity: Uint8Array, signed: readonly Uint8Array[], signature: Uint8Array): CheckedSignature {
    const checked = this.#checker.check(identity, signed, signature);
    this.verdicts.push(
      checked.verified === undefined ? VERDICT.NO_KEY : checked.verified ? VERDICT.VALID : VERDICT.INVALID,
    );
    return checked;
  }
}

/**
 * Gives the verdicts a worker recorded for the same block, in the same order, instead of verifying again;
 * past the recorded ones (which decoding the same bytes never reaches) it verifies itself.
 */
export class RecordedVerdicts implements SignatureVerdicts {
  readonly #verdicts: Uint8Array;
  readonly #fallback: SignatureChecker;
  #next = 0;

  public constructor(verdicts: Uint8Array, fallback: SignatureChecker) {
    this.#verdicts = verdicts;
    this.#fallback = fallback;
  }

  public check(identity: Uint8Array, signed: readonly Uint8Array[], signature: Uint8Array): CheckedSignature {
    const v = this.#verdicts[this.#next++];
    if (v === VERDICT.VALID) return { identity, verified: true };
    if (v === VERDICT.INVALID) return { identity, verified: false };
    if (v === VERDICT.NO_KEY) return { identity, verified: undefined };
    return this.#fallback.check(identity, signed, signature);
  }
}

/**
 * The orderers' signatures of a block (Raft: each over `metadata.value || signatureHeader || header`);
 * undefined when the SIGNATURES metadata does not decode. Throws when a signature header does not.
 */
function ordererSignatures(block: RawBlock, checker: SignatureVerdicts): CheckedSignature[] | undefined {
  // common.Metadata { value = 1, repeated MetadataSignature signatures = 2 }
  let value: Uint8Array = new Uint8Array(0);
  const signatures: Uint8Array[] = [];
  try {
    const r = new WireReader(block.metadata[METADATA_INDEX.SIGNATURES] ?? new Uint8Array());
    while (r.next()) {
      if (r.field === 1) value = r.bytes();
      else if (r.field === 2) signatures.push(r.bytes());
      else r.skip();
    }
  } catch {
    return undefined;
  }
  const headerBytes = blockHeaderBytes(block);
  const signed: CheckedSignature[] = [];
  for (const bytes of signatures) {
    // MetadataSignature { signature_header = 1, signature = 2, identifier_header = 3 }
    let sh: Uint8Array = new Uint8Array(0);
    let signature: Uint8Array = new Uint8Array(0);
    const m = new WireReader(bytes);
    while (m.next()) {
      if (m.field === 1) sh = m.bytes();
      else if (m.field === 2) signature = m.bytes();
      else m.skip();
    }
    if (sh.length === 0) continue; // BFT identifier headers: not written by Raft, not evaluated here
    // SignatureHeader { creator = 1, nonce = 2 }
    let creator: Uint8Array = new Uint8Array(0);
    const h = new WireReader(sh);
    while (h.next()) {
      if (h.field === 1) creator = h.bytes();
      else h.skip();
    }
    signed.push(checker.check(creator, [value, sh, headerBytes], signature));
  }
  return signed;
}

/**
 * Decodes a block and, given a `checker`, verifies every signature it carries (orderers', creators',
 * endorsers'), asking it in block order; `dataHash` is the hash over the envelopes when already computed. Pure: it reads neither state nor configuration, so blocks can be decoded in any order and
 * on any thread; the same block gives the same result wherever it is decoded.
 */
export function decodeBlock(
  block: RawBlock,
  checker: SignatureVerdicts | undefined,
  dataHash?: Uint8Array,
): DecodedBlock {
  let orderer: DecodedOrdererSignatures | undefined;
  if (block.number > 0n && checker) {
    try {
      const signed = ordererSignatures(block, checker);
      orderer = signed === undefined ? { kind: 'metadata-unparsable' } : { kind: 'signed', signed };
    } catch (error) {
      orderer = { kind: 'error', message: failureOf(error).message };
    }
  }
  const transactions = block.data.map((item): DecodedTransaction => {
    const envelope = decoded(() => decodeEnvelope(item));
    if ('error' in envelope) return { envelope };
    const env = envelope.value;
    const endorser = env.type === HEADER_TYPE_ENDORSER_TRANSACTION;
    const creator =
      checker && (endorser || (env.type === HEADER_TYPE_CONFIG && block.number > 0n))
        ? checker.check(env.creator, [env.payload], env.signature)
        : undefined;
    if (!endorser) return { envelope, ...(creator ? { creator } : {}) };
    const endorserTransaction = decoded(() => decodeEndorserTransaction(env));
    const tx = 'error' in endorserTransaction ? undefined : endorserTransaction.value;
    const endorsements =
      tx && checker
        ? tx.endorsements.map((e) =>
            checker.check(e.endorser, [tx.proposalResponsePayload, e.endorser], e.signature),
          )
        : undefined;
    return {
      envelope,
      ...(creator ? { creator } : {}),
      endorserTransaction,
      ...(endorsements ? { endorsements } : {}),
    };
  });
  return {
    number: block.number,
    envelopes: block.data.length,
    headerHash: ownBytes(blockHeaderHash(block)),
    dataHash: dataHash ?? ownBytes(blockDataHash(block.data)),
    orderer,
    transactions,
  };
}

import { createPublicKey } from 'node:crypto';
import { createHash } from 'node:crypto';
import {
  EVENT,
  LedgerError,
  type DeactivateMachineInput,
  type LedgerEvent,
  type Machine,
  type RegisterMachineInput,
  type RotateMachineKeysInput,
} from '@threadseal/ledger-model';
import type { TxTime } from './time.js';

const SPKI_PEM = /^\s*-----BEGIN PUBLIC KEY-----\r?\n([A-Za-z0-9+/=\r\n]+)-----END PUBLIC KEY-----\s*$/;

/**
 * The named curve of `pem` if it is exactly one SubjectPublicKeyInfo PEM block of an EC key, else undefined.
 * Anything else is refused, a private key above all: Node would derive a public key from it, and the text
 * given is what the channel publishes.
 */
function p256Spki(pem: string): Buffer | undefined {
  const body = SPKI_PEM.exec(pem)?.[1];
  if (body === undefined) return undefined;
  const der = Buffer.from(body.replace(/[\r\n]/g, ''), 'base64');
  try {
    const key = createPublicKey({ key: der, format: 'der', type: 'spki' });
    if (!key.export({ type: 'spki', format: 'der' }).equals(der)) return undefined;
    return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1'
      ? der
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The key id of a machine's recipient key as the container format computes it: hex SHA-256 of its SPKI DER.
 * @throws LedgerError CORRUPT_STATE when the stored key is not a P-256 SPKI PEM (registration checked it).
 */
export function recipientKeyId(machine: Machine): string {
  const der = p256Spki(machine.recipientPublicKeyPem);
  if (der === undefined)
    throw new LedgerError('CORRUPT_STATE', `machine ${machine.machineId}: stored recipient key is not P-256`);
  return createHash('sha256').update(der).digest('hex');
}

/**
 * The SPKI DER of a machine's two keys as given, after checking each is one P-256 public key in SPKI PEM (a
 * private key or any other PEM is refused and never written) and that they differ: one key for both would let
 * a decryption oracle sign and a signing oracle decrypt.
 * @throws LedgerError INVALID_ARGUMENT.
 */
function machineKeys(input: {
  readonly machineId: string;
  readonly publicKeyPem: string;
  readonly recipientPublicKeyPem: string;
}): { readonly signing: Buffer; readonly recipient: Buffer } {
  const signing = p256Spki(input.publicKeyPem);
  if (signing === undefined)
    throw new LedgerError(
      'INVALID_ARGUMENT',
      `machine ${input.machineId}: publicKeyPem must be a P-256 public key in SPKI PEM`,
    );
  const recipient = p256Spki(input.recipientPublicKeyPem);
  if (recipient === undefined)
    throw new LedgerError(
      'INVALID_ARGUMENT',
      `machine ${input.machineId}: recipientPublicKeyPem must be a P-256 public key in SPKI PEM`,
    );
  if (recipient.equals(signing))
    throw new LedgerError(
      'INVALID_ARGUMENT',
      `machine ${input.machineId}: the recipient (decryption) key must not be the signing key`,
    );
  return { signing, recipient };
}

/**
 * Registers a machine of `ownerMsp` after checking that its signing and recipient keys are each one P-256
 * public key in SPKI PEM (a private key or any other PEM is refused and never written), and two different
 * keys: one key for both would let a decryption oracle sign and a signing oracle decrypt.
 * @throws LedgerError INVALID_ARGUMENT.
 */
export function registerMachine(
  input: RegisterMachineInput,
  ownerMsp: string,
  now: TxTime,
): { readonly machine: Machine; readonly event: LedgerEvent } {
  machineKeys(input);
  const machine: Machine = {
    machineId: input.machineId,
    ownerMsp,
    make: input.make,
    model: input.model,
    serial: input.serial,
    firmware: input.firmware,
    certifications: [...input.certifications],
    publicKeyPem: input.publicKeyPem,
    recipientPublicKeyPem: input.recipientPublicKeyPem,
    status: 'active',
    registeredAt: now.iso,
    deactivatedAt: null,
    deactivationReason: null,
  };
  return {
    machine,
    event: {
      name: EVENT.machineRegistered,
      payload: {
        machineId: machine.machineId,
        ownerMsp,
        make: machine.make,
        model: machine.model,
        serial: machine.serial,
      },
    },
  };
}

/**
 * Deactivates an active machine: from this transaction on no build starts on it and no key is released to it.
 * @throws LedgerError MACHINE_DEACTIVATED when it already is.
 */
export function deactivateMachine(
  machine: Machine,
  input: DeactivateMachineInput,
  now: TxTime,
): { readonly machine: Machine; readonly event: LedgerEvent } {
  assertMachineActive(machine);
  return {
    machine: { ...machine, status: 'deactivated', deactivatedAt: now.iso, deactivationReason: input.reason },
    event: {
      name: EVENT.machineDeactivated,
      payload: { machineId: machine.machineId, ownerMsp: machine.ownerMsp, reason: input.reason },
    },
  };
}

const keyId = (der: Buffer): string => createHash('sha256').update(der).digest('hex');

/**
 * Replaces an active machine's signing and recipient keys (a key suspected stolen, a controller replaced):
 * both new keys are P-256 SPKI public keys, different from each other and from both current keys. From this
 * transaction on, requests signed with the old key fail `BAD_SIGNATURE` and releases are sealed to the new
 * recipient key. The machine key is guarded by its owner and the channel stakeholders, so the owner alone
 * cannot rotate (the IP owner's peer co-signs).
 * @throws LedgerError INVALID_ARGUMENT, MACHINE_DEACTIVATED, CORRUPT_STATE (stored keys not P-256).
 */
export function rotateMachineKeys(
  machine: Machine,
  input: RotateMachineKeysInput,
): { readonly machine: Machine; readonly event: LedgerEvent } {
  assertMachineActive(machine);
  const oldSigning = p256Spki(machine.publicKeyPem);
  const oldRecipient = p256Spki(machine.recipientPublicKeyPem);
  if (oldSigning === undefined || oldRecipient === undefined)
    throw new LedgerError('CORRUPT_STATE', `machine ${machine.machineId}: stored keys are not P-256`);
  const { signing, recipient } = machineKeys(input);
  for (const fresh of [signing, recipient])
    if (fresh.equals(oldSigning) || fresh.equals(oldRecipient))
      throw new LedgerError(
        'INVALID_ARGUMENT',
        `machine ${input.machineId}: a rotation needs two new keys; ${keyId(fresh)} is a current key of the machine`,
      );
  return {
    machine: {
      ...machine,
      publicKeyPem: input.publicKeyPem,
      recipientPublicKeyPem: input.recipientPublicKeyPem,
    },
    event: {
      name: EVENT.machineKeysRotated,
      payload: {
        machineId: machine.machineId,
        ownerMsp: machine.ownerMsp,
        reason: input.reason,
        previousSigningKeyId: keyId(oldSigning),
        signingKeyId: keyId(signing),
        previousRecipientKeyId: keyId(oldRecipient),
        recipientKeyId: keyId(recipient),
      },
    },
  };
}

/** @throws LedgerError MACHINE_DEACTIVATED when the machine was deactivated. */
export function assertMachineActive(machine: Machine): void {
  if (machine.status !== 'active')
    throw new LedgerError(
      'MACHINE_DEACTIVATED',
      `machine ${machine.machineId} was deactivated at ${machine.deactivatedAt ?? 'an unknown time'}: ${machine.deactivationReason ?? ''}`.trimEnd(),
    );
}

import { createPublicKey } from 'node:crypto';
import { createHash } from 'node:crypto';
import {
  EVENT,
  LedgerError,
  type DeactivateMachineInput,
  type LedgerEvent,
  type Machine,
  type RegisterMachineInput,
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

/** @throws LedgerError MACHINE_DEACTIVATED when the machine was deactivated. */
export function assertMachineActive(machine: Machine): void {
  if (machine.status !== 'active')
    throw new LedgerError(
      'MACHINE_DEACTIVATED',
      `machine ${machine.machineId} was deactivated at ${machine.deactivatedAt ?? 'an unknown time'}: ${machine.deactivationReason ?? ''}`.trimEnd(),
    );
}

import { createPublicKey } from 'node:crypto';
import {
  EVENT,
  LedgerError,
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
function spkiCurve(pem: string): string | undefined {
  const body = SPKI_PEM.exec(pem)?.[1];
  if (body === undefined) return undefined;
  const der = Buffer.from(body.replace(/[\r\n]/g, ''), 'base64');
  try {
    const key = createPublicKey({ key: der, format: 'der', type: 'spki' });
    if (!key.export({ type: 'spki', format: 'der' }).equals(der)) return undefined;
    return key.asymmetricKeyType === 'ec' ? key.asymmetricKeyDetails?.namedCurve : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Registers a machine of `ownerMsp` after checking that its key is one P-256 public key in SPKI PEM (a
 * private key or any other PEM is refused and never written).
 * @throws LedgerError INVALID_ARGUMENT.
 */
export function registerMachine(
  input: RegisterMachineInput,
  ownerMsp: string,
  now: TxTime,
): { readonly machine: Machine; readonly event: LedgerEvent } {
  if (spkiCurve(input.publicKeyPem) !== 'prime256v1')
    throw new LedgerError(
      'INVALID_ARGUMENT',
      `machine ${input.machineId}: publicKeyPem must be a P-256 public key in SPKI PEM`,
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
    registeredAt: now.iso,
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

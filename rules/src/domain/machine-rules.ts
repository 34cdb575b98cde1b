import { createPublicKey } from 'node:crypto';
import {
  EVENT,
  LedgerError,
  type LedgerEvent,
  type Machine,
  type RegisterMachineInput,
} from '@threadseal/ledger-model';
import type { TxTime } from './time.js';

/**
 * Registers a machine of `ownerMsp` after checking that its key is a P-256 public key in SPKI PEM.
 * @throws LedgerError INVALID_ARGUMENT.
 */
export function registerMachine(
  input: RegisterMachineInput,
  ownerMsp: string,
  now: TxTime,
): { readonly machine: Machine; readonly event: LedgerEvent } {
  let curve: string | undefined;
  try {
    const key = createPublicKey({ key: input.publicKeyPem, format: 'pem' });
    curve = key.asymmetricKeyType === 'ec' ? key.asymmetricKeyDetails?.namedCurve : undefined;
  } catch {
    curve = undefined;
  }
  if (curve !== 'prime256v1')
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

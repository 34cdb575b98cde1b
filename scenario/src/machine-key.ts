import { generateKeyPairSync, type KeyObject } from 'node:crypto';

/** A machine's P-256 signing key pair, as the machine holds it; `publicKeyPem` is what its owner registers. */
export interface MachineKey {
  readonly machineId: string;
  readonly privateKey: KeyObject;
  readonly publicKeyPem: string;
}

/** Generates a fresh P-256 key pair for `machineId` (the demo's machines and every test's). */
export function newMachineKey(machineId: string): MachineKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    machineId,
    privateKey,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

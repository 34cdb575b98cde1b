import { generateKeyPairSync, type KeyObject } from 'node:crypto';

/**
 * A machine's two P-256 key pairs, as a development machine holds them in software (a production machine
 * keeps both in its PKCS#11 token, docs/decisions/0008): `privateKey` signs StartBuild requests and
 * `recipientKey` opens the content keys released to it. `publicKeyPem` and `recipientPublicKeyPem` are what
 * its owner registers.
 */
export interface MachineKey {
  readonly machineId: string;
  readonly privateKey: KeyObject;
  readonly publicKeyPem: string;
  readonly recipientKey: KeyObject;
  readonly recipientPublicKeyPem: string;
}

const pemOf = (key: KeyObject): string => key.export({ type: 'spki', format: 'pem' }).toString();

/** Generates fresh signing and recipient key pairs for `machineId` (the demo's machines and every test's). */
export function newMachineKey(machineId: string): MachineKey {
  const signing = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const recipient = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    machineId,
    privateKey: signing.privateKey,
    publicKeyPem: pemOf(signing.publicKey),
    recipientKey: recipient.privateKey,
    recipientPublicKeyPem: pemOf(recipient.publicKey),
  };
}

/** Whether a machine may still build and receive content keys. */
export type MachineStatus = 'active' | 'deactivated';

/** Input of `machine:Register`; the owner org is the submitter's MSP. */
export interface RegisterMachineInput {
  readonly machineId: string;
  readonly make: string;
  readonly model: string;
  readonly serial: string;
  readonly firmware: string;
  readonly certifications: readonly string[];
  /** The machine's P-256 signing public key as SPKI PEM; it signs StartBuild requests. */
  readonly publicKeyPem: string;
  /**
   * The machine's P-256 decryption (HPKE recipient) public key as SPKI PEM, a different key from the signing
   * one: the IP owner's key-release service wraps a build's content keys to it (docs/decisions/0008).
   */
  readonly recipientPublicKeyPem: string;
}

/** Input of `machine:Deactivate`: no build starts on it and no key is released to it from then on. */
export interface DeactivateMachineInput {
  readonly machineId: string;
  readonly reason: string;
}

/**
 * Input of `machine:RotateKeys`: the machine's new signing and recipient keys (both P-256 SPKI PEM, both new).
 * Requests signed with the old key are refused from then on, and releases go to the new recipient key.
 */
export interface RotateMachineKeysInput {
  readonly machineId: string;
  readonly publicKeyPem: string;
  readonly recipientPublicKeyPem: string;
  readonly reason: string;
}

/** Input of `machine:Get`. */
export interface MachineRef {
  readonly machineId: string;
}

/** A registered machine (key `machine~<machineId>`). */
export interface Machine {
  readonly machineId: string;
  readonly ownerMsp: string;
  readonly make: string;
  readonly model: string;
  readonly serial: string;
  readonly firmware: string;
  readonly certifications: readonly string[];
  readonly publicKeyPem: string;
  readonly recipientPublicKeyPem: string;
  readonly status: MachineStatus;
  readonly registeredAt: string;
  readonly deactivatedAt: string | null;
  readonly deactivationReason: string | null;
}

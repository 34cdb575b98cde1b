/** Input of `machine:Register`; the owner org is the submitter's MSP. */
export interface RegisterMachineInput {
  readonly machineId: string;
  readonly make: string;
  readonly model: string;
  readonly serial: string;
  readonly firmware: string;
  readonly certifications: readonly string[];
  /** The machine's P-256 public key as SPKI PEM; it signs StartBuild requests. */
  readonly publicKeyPem: string;
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
  readonly registeredAt: string;
}

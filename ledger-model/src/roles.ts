/** Certificate attributes (Fabric CA, `:ecert`) the chaincode reads from the client identity. */
export const IDENTITY_ATTRIBUTE = {
  role: 'role',
  /** Comma-separated list of the holder's qualifications, e.g. `ndt-level-2,am-operator`. */
  qualification: 'qualification',
  serial: 'serial',
} as const;

/** Values of the `role` attribute that grant administrative rights. */
export const ROLE = {
  /** Registers, supersedes and revokes DSIs; issues, splits, allocates and revokes licenses. */
  ipAdmin: 'ip-admin',
  /** Splits, allocates and revokes licenses held or granted by its org. */
  licenseAdmin: 'license-admin',
  /** Registers its org's machines. */
  machineAdmin: 'machine-admin',
  /** The IP owner's key-release service: records releases of content keys to machines of committed builds. */
  keyRelease: 'key-release',
  /** Default operator role, required to run builds when a license names no operator roles. */
  operator: 'operator',
} as const;

/** One of the {@link ROLE} values. */
export type Role = (typeof ROLE)[keyof typeof ROLE];

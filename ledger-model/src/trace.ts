import type { Build, Part } from './build.js';
import type { Dsi } from './dsi.js';
import type { Allocation, License, LicenseBalance, LicenseRevocation, LicenseView } from './license.js';
import type { Machine } from './machine.js';

/** Input of `trace:GetDsiTree`. */
export interface DsiTreeInput {
  readonly dsiId: string;
}

/** Output of `trace:GetDsiTree`: everything recorded under one DSI, read by DSI-prefixed keys only. */
export interface DsiTree {
  readonly dsi: Dsi;
  /** Every license of the tree, parents before children. */
  readonly licenses: readonly LicenseView[];
  readonly allocations: readonly Allocation[];
  /** The machines that hold allocations under the DSI. */
  readonly machines: readonly Machine[];
  readonly builds: readonly Build[];
  readonly parts: readonly Part[];
}

/** Input of `trace:GetAllocationHistory`. */
export interface AllocationRef {
  readonly licenseId: string;
  readonly machineId: string;
}

/** One committed version of a key. */
export interface HistoryEntry<T> {
  readonly txId: string;
  /** Transaction timestamp (ISO 8601 UTC). */
  readonly timestamp: string;
  readonly isDelete: boolean;
  /** The value written, `null` for a delete. */
  readonly value: T | null;
}

/** Output of `trace:GetLicenseHistory`: the versions of the three keys of a license. */
export interface LicenseHistory {
  readonly license: readonly HistoryEntry<License>[];
  readonly balance: readonly HistoryEntry<LicenseBalance>[];
  readonly revocation: readonly HistoryEntry<LicenseRevocation>[];
}

/** Output of `trace:GetPartHistory`: versions of the part and of the build that produced it, newest first. */
export interface PartHistory {
  readonly part: readonly HistoryEntry<Part>[];
  readonly build: readonly HistoryEntry<Build>[];
}

import type {
  IssueLicenseInput,
  LicenseGrant,
  ProductionTerms,
  RegisterDsiInput,
} from '@threadseal/ledger-model';
import {
  rootTerms,
  SCENARIO_MSP,
  SCENARIO_PARAMETERS,
  SCENARIO_PART,
  scenarioGrants,
  subTerms,
} from '@threadseal/scenario';
import type { UnitTestUser } from './chaincode/unit-test-stub';
import { fixtureManifest, type DsiManifestFields, type FixtureDsi } from './signed-dsi';
import { OEM_IP_ADMIN, SUB_IP_ADMIN } from './unit-test-pki';

/*
 * The aerospace scenario of `@threadseal/scenario` at fixed dates, and the users of the unit tests: the
 * chaincode unit tests run it over the in-memory ledger with a clock of their own.
 */

export const OEM = SCENARIO_MSP.oem;
export const CM = SCENARIO_MSP.manufacturer;
export const SUB = SCENARIO_MSP.subcontractor;

const user = (
  mspId: string,
  name: string,
  attributes: Record<string, string>,
  certificatePem?: string,
): UnitTestUser => ({
  mspId,
  name,
  attributes,
  ...(certificatePem === undefined ? {} : { certificatePem }),
});

/** Unit-test identities with the CA attributes the access rules read. */
export const USERS = {
  oemAdmin: user(OEM, 'oem-ip-admin', { role: 'ip-admin' }, OEM_IP_ADMIN.certificatePem),
  /** The OEM's key-release service identity. */
  oemKeyRelease: user(OEM, 'oem-key-release', { role: 'key-release' }),
  /** A key-release identity the subcontractor's own CA made: it may release nobody's keys. */
  subKeyRelease: user(SUB, 'sub-key-release', { role: 'key-release' }),
  cmAdmin: user(CM, 'cm-license-admin', { role: 'license-admin' }),
  cmMachineAdmin: user(CM, 'cm-machine-admin', { role: 'machine-admin' }),
  cmOperator: user(CM, 'cm-operator', { role: 'am-operator', qualification: 'nadcap-am, ndt-2' }),
  subAdmin: user(SUB, 'sub-license-admin', { role: 'license-admin' }),
  /** An ip-admin the subcontractor's own CA made: it may register DSIs it signed itself, nobody else's. */
  subIpAdmin: user(SUB, 'sub-ip-admin', { role: 'ip-admin' }, SUB_IP_ADMIN.certificatePem),
  subMachineAdmin: user(SUB, 'sub-machine-admin', { role: 'machine-admin' }),
  subOperator: user(SUB, 'sub-operator', { role: 'am-operator', qualification: 'nadcap-am,ndt-2,ti-powder' }),
  subTrainee: user(SUB, 'sub-trainee', { role: 'am-operator', qualification: 'nadcap-am' }),
} as const;

/** The unit tests' clock starts here. */
export const START = new Date('2026-03-01T08:00:00.000Z');

/** The scenario part's signed manifest (two files), as the OEM's container holds it. */
export const DSI_MANIFEST: FixtureDsi = unitTestDsi();

/** `dsi:Register` of the scenario part: the manifest signed by the OEM ip-admin (`USERS.oemAdmin`). */
export const DSI: RegisterDsiInput = DSI_MANIFEST.signedBy(OEM_IP_ADMIN);

/** A manifest of the scenario part with some fields changed (e.g. a later revision), created by the OEM. */
export function unitTestDsi(overrides: Partial<DsiManifestFields> = {}): FixtureDsi {
  return fixtureManifest({
    ...SCENARIO_PART,
    creatorMsp: OEM,
    files: ['model/bracket.3mf', 'process/build-plan.json'],
    ...overrides,
  });
}

const GRANTS = scenarioGrants({
  validFrom: '2026-01-01T00:00:00.000Z',
  validUntil: '2027-01-01T00:00:00.000Z',
  subValidUntil: '2026-09-01T00:00:00.000Z',
});

/** OEM → contract manufacturer: 20 units. */
export const ROOT_GRANT: LicenseGrant = GRANTS.root;
export const ROOT_TERMS: ProductionTerms = rootTerms();

/** The OEM issues `L-ROOT` to the contract manufacturer on its open (not confidential) terms. */
export const ISSUE_ROOT: IssueLicenseInput = {
  licenseId: 'L-ROOT',
  dsiId: DSI.dsiId,
  holderMsp: CM,
  grant: ROOT_GRANT,
  confidential: false,
  terms: ROOT_TERMS,
};

/** The contract manufacturer's own shop floor: same terms, 12 units. */
export const FLOOR_GRANT: LicenseGrant = GRANTS.floor;

/** The subcontractor: 8 units, EOS M290 only, tighter laser power, an extra qualification. */
export const SUB_GRANT: LicenseGrant = GRANTS.sub;
export const SUB_TERMS: ProductionTerms = subTerms();

/** Parameters inside both envelopes, and one that neither constrains. */
export const GOOD_PARAMETERS = { ...SCENARIO_PARAMETERS, layerThickness: 0.03 } as const;

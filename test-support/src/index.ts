// Fabric-free fixtures: the scenario at fixed dates, ledger fixtures, machine keys, the LedgerError expectation.
export {
  CM,
  DSI,
  DSI_MANIFEST,
  FLOOR_GRANT,
  GOOD_PARAMETERS,
  ISSUE_ROOT,
  OEM,
  ROOT_GRANT,
  ROOT_TERMS,
  START,
  SUB,
  SUB_GRANT,
  SUB_TERMS,
  USERS,
  unitTestDsi,
} from './aerospace-fixtures';
export { expectLedgerError } from './expect-ledger-error';
export { httpsAgent, httpsJson, type HttpsCredential, type JsonResponse } from './https-json';
export { fixtureDsi, grant, m400Terms, sha256 } from './ledger-fixtures';
export {
  certificateFingerprint,
  fixtureManifest,
  type DsiManifestFields,
  type FixtureDsi,
} from './signed-dsi';
export { OEM_IP_ADMIN, SUB_IP_ADMIN, type DsiSigner } from './unit-test-pki';
export { newMachineKey, SCENARIO_MACHINES, SCENARIO_PARAMETERS } from '@threadseal/scenario';
export type { MachineKey, ScenarioMachineSpec } from '@threadseal/scenario';

// First: fabric-contract-api reads its log level when it loads.
import '../quiet-logs';

export {
  CHAINCODE_POLICY,
  EndorsementPolicyFailure,
  UnitTestMachine,
  UnitTestNetwork,
} from './unit-test-network';
export type { UnitTestCallOptions, UnitTestContractClass } from './unit-test-network';
export { UnitTestIdentity, UnitTestLedger, UnitTestStub, unitTestContext } from './unit-test-stub';
export type { RecordedEvent, UnitTestTxOptions, UnitTestUser } from './unit-test-stub';
export { licensedShops } from './licensed-shops';
export type { LicensedShops } from './licensed-shops';

export {
  CM,
  DSI,
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
} from './aerospace-fixtures';
export { expectLedgerError } from './expect-ledger-error';
export { fixtureDsi, grant, m400Terms, sha256 } from './ledger-fixtures';
export { LedgerSessions } from './ledger-sessions';
export { newMachineKey, SCENARIO_MACHINES, SCENARIO_PARAMETERS } from '@threadseal/scenario';
export type { MachineKey, ScenarioMachineSpec } from '@threadseal/scenario';

// The scenario's data, free of Fabric and of any client: what the demo shows and the tests replay.
export {
  rootTerms,
  SCENARIO_MACHINES,
  SCENARIO_MSP,
  SCENARIO_PARAMETERS,
  SCENARIO_PART,
  SCENARIO_QUANTITIES,
  scenarioGrants,
  subTerms,
} from './aerospace';
export type { ScenarioGrants, ScenarioMachineSpec, ScenarioWindow } from './aerospace';
export { newMachineKey } from './machine-key';
export type { MachineKey } from './machine-key';
export { CNC_MACHINES, CNC_PROGRAMS, cncRootTerms, cncSubTerms } from './cnc';

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
export { closeScenarioUsers, openScenarioUsers, runAerospaceScenario } from './run';
export type { ScenarioReport, ScenarioUsers } from './run';
export { openInMemory, protectDemoTdp } from './demo-tdp';
export type { DemoDsi } from './demo-tdp';

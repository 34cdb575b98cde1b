export { main } from './main';
export {
  closeScenarioUsers,
  formatTree,
  openScenarioUsers,
  runAerospaceScenario,
  SCENARIO_PARAMETERS,
} from './scenario/aerospace-scenario';
export type { ScenarioReport, ScenarioUsers } from './scenario/aerospace-scenario';
export { openInMemory, protectDemoTdp } from './scenario/demo-tdp';
export type { DemoDsi } from './scenario/demo-tdp';

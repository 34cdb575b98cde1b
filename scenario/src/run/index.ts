// The scenario run on a network: through the typed ledger client, with a TDP sealed by the container library.
export { closeScenarioUsers, openScenarioUsers, runAerospaceScenario } from './aerospace-run';
export type {
  BuildOutcome,
  RegisteredFacts,
  ScenarioHooks,
  ScenarioMachine,
  ScenarioReport,
  ScenarioUsers,
  ScenarioVariant,
  StartedBuild,
} from './aerospace-run';
export { demoDsiStore, openReleased, protectDemoTdp, waitForRelease } from './demo-tdp';
export type { DemoDsi } from './demo-tdp';

// The scenario run on a network: through the typed ledger client, with a TDP sealed by the container library.
export { closeScenarioUsers, openScenarioUsers, runAerospaceScenario } from './aerospace-run';
export type { ScenarioReport, ScenarioUsers } from './aerospace-run';
export { openInMemory, protectDemoTdp } from './demo-tdp';
export type { DemoDsi } from './demo-tdp';

// @ts-check
// The import boundaries of the repository as ESLint configuration (used by eslint.config.mjs and by the
// test that proves the rule refuses what it should): the layers of docs/architecture.md and who may
// import whom. A workspace imports only the public entry points of the workspaces its layer allows; no one
// reaches into another workspace's src/ or dist/; relative imports stay inside their workspace; the model
// and the rules import nothing of Fabric; only tests import the test support.

/**
 * The layers of the repository and who may import whom (docs/architecture.md). A workspace may import only
 * the public entry points of the workspaces its layer allows; no one reaches into another workspace's
 * src/ or dist/, and relative imports stay inside their workspace.
 */
/** @typedef {{ workspaces: string[], may: string[], fabricFree?: boolean }} Layer */

/** @type {Record<string, Layer>} */
export const LAYERS = {
  // Fabric-free vocabulary and rules: agents, services and the auditor import them without Fabric.
  model: { workspaces: ['ledger-model'], fabricFree: true, may: [] },
  rules: { workspaces: ['rules'], fabricFree: true, may: ['ledger-model'] },
  libraries: {
    workspaces: ['dsi-container', 'ledger-client', 'gcode'],
    may: ['ledger-model', 'rules', 'dsi-container'],
  },
  chaincode: { workspaces: ['chaincode'], may: ['ledger-model', 'rules'] },
  apps: {
    workspaces: ['cli', 'enforce-agent', 'gateway', 'key-release', 'auditor'],
    may: ['ledger-model', 'rules', 'dsi-container', 'ledger-client', 'gcode', 'network', 'scenario'],
  },
  tools: {
    workspaces: ['network', 'scenario', 'test-support', 'test'],
    may: [
      'ledger-model',
      'rules',
      'dsi-container',
      'ledger-client',
      'gcode',
      'network',
      'scenario',
      'test-support',
    ],
  },
};
const ALL_WORKSPACES = Object.values(LAYERS).flatMap((l) => l.workspaces);
// Integration suites and benches of an app drive it through its public entry point, as a user would.
/** @type {Record<string, string>} */
const APP_SUITES = { 'test/src/audit/**/*.ts': 'auditor', 'test/src/bench/audit-bench.ts': 'auditor' };
// Tests of any workspace may use the test support; nothing else may, so no deployable ships it.
const TEST_FILES = ['**/*.test.ts', '**/testing/**'];

/** @returns {import('eslint').Linter.Config[]} */
export function importBoundaries() {
  return Object.entries(LAYERS).flatMap(([layer, { workspaces, may, fabricFree }]) => {
    const files = workspaces.map((w) => `${w}/src/**/*.ts`);
    /**
     * @param {string[]} allowed
     * @returns {import('eslint').Linter.RuleEntry}
     */
    const rule = (allowed) => {
      const forbidden = ALL_WORKSPACES.filter((w) => !allowed.includes(w) && !workspaces.includes(w));
      const patterns = [
        {
          group: forbidden.flatMap((w) => [`@threadseal/${w}`, `@threadseal/${w}/*`]),
          message: `the ${layer} layer may import only ${allowed.join(', ') || 'no other workspace'} (docs/architecture.md)`,
        },
        {
          regex: '^@threadseal/[a-z-]+/(src|dist)(/|$)',
          message: "import a workspace's public entry point, never its src/ or dist/",
        },
        {
          regex: `^(\\.\\./)+(${ALL_WORKSPACES.join('|')})/`,
          message: 'relative imports stay inside their workspace: import the package by name',
        },
      ];
      if (fabricFree) {
        patterns.push({
          group: ['fabric-*', '@hyperledger/*', '@grpc/*'],
          message: 'the model and the rules are free of Fabric: agents and services import them without it',
        });
      }
      return ['error', { patterns }];
    };
    return [
      { files, ignores: TEST_FILES, rules: { 'no-restricted-imports': rule(may) } },
      {
        files: TEST_FILES.flatMap((t) => files.map((f) => f.replace('**/*.ts', t))),
        rules: { 'no-restricted-imports': rule([...may, 'test-support']) },
      },
      ...(workspaces.includes('test')
        ? Object.entries(APP_SUITES).map(([suite, app]) => ({
            files: [suite],
            rules: { 'no-restricted-imports': rule([...may, 'test-support', app]) },
          }))
        : []),
    ];
  });
}

// One lint configuration for the repository: typescript-eslint strict, type-checked, for every workspace's
// TypeScript; ESLint's recommended rules with Node globals for the JavaScript tools around it.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import { importBoundaries } from './scripts/import-boundaries.mjs';

/** JavaScript that runs as is: repository scripts, the CLI launcher, the ccaas external builders. */
const esModules = ['eslint.config.mjs', 'scripts/**/*.mjs'];
// Extensionless files are linted only when named exactly.
const commonJs = [
  'scripts/**/*.cjs',
  'cli/bin/*.js',
  'gateway/bin/*.js',
  'network/builders/ccaas/bin/build',
  'network/builders/ccaas/bin/detect',
  'network/builders/ccaas/bin/release',
];

export default tseslint.config(
  {
    ignores: ['**/dist/**', '**/dist-test/**', '**/node_modules/**', '.fabric/**', '.threadseal/**'],
  },
  {
    files: ['**/*.ts'],
    extends: [...tseslint.configs.strictTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      'no-restricted-syntax': [
        'error',
        { selector: "CallExpression[callee.property.name='only']", message: 'Focused tests skip the rest.' },
      ],
    },
  },
  {
    // The rules run inside the chaincode: the same determinism holds for them.
    files: ['chaincode/src/**/*.ts', 'rules/src/**/*.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'Chaincode time comes from the transaction timestamp.' },
        { object: 'Math', property: 'random', message: 'Chaincode must be deterministic.' },
      ],
    },
  },
  // Who may import whom; the vector generator's stricter rule below replaces it for that one file.
  ...importBoundaries(),
  {
    // The generator shows that the vectors can be made from the published surface alone.
    files: ['dsi-container/src/vectors/generate-vectors.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['./*', '../*'],
              message: 'Import @threadseal/dsi-container or @threadseal/dsi-container/format, not internals.',
            },
          ],
        },
      ],
    },
  },
  {
    files: [...esModules, ...commonJs],
    extends: [js.configs.recommended],
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: globals.nodeBuiltin },
  },
  {
    files: commonJs,
    languageOptions: { sourceType: 'commonjs', globals: globals.node },
  },
  {
    // The gateway's dashboard: a plain browser script served as is (no front-end build step).
    files: ['gateway/static/*.js'],
    extends: [js.configs.recommended],
    languageOptions: { ecmaVersion: 2023, sourceType: 'script', globals: globals.browser },
  },
);

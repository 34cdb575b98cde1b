// One lint configuration for every workspace: typescript-eslint strict, type-checked.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '.fabric/**',
      '.threadseal/**',
      '**/*.js',
      '**/*.mjs',
      '**/*.cjs',
    ],
  },
  ...tseslint.configs.strictTypeChecked,
  {
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
  {
    files: ['ledger-model/src/**/*.ts', 'rules/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['fabric-*', '@hyperledger/*', '@grpc/*'],
              message:
                'The model and the rules are free of Fabric: agents and services import them without it.',
            },
          ],
        },
      ],
    },
  },
);

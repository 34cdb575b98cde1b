import { join } from 'node:path';
import { expect } from 'chai';
import { ESLint, type Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import { repoRoot } from '@threadseal/network';

/** The boundaries exactly as eslint.config.mjs applies them, with only the TypeScript parser besides. */
async function boundaryLinter(): Promise<ESLint> {
  const root = repoRoot();
  const { importBoundaries } = (await import(join(root, 'scripts', 'import-boundaries.mjs'))) as {
    importBoundaries: () => Linter.Config[];
  };
  return new ESLint({
    cwd: root,
    overrideConfigFile: true,
    overrideConfig: [
      { files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } },
      ...importBoundaries(),
    ],
  });
}

/** The messages of no-restricted-imports for `code` as if it were the file `file` of the repository. */
async function refusals(linter: ESLint, file: string, code: string): Promise<string[]> {
  const [result] = await linter.lintText(code, { filePath: join(repoRoot(), file) });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('import boundaries (the lint rule of docs/architecture.md)', function () {
  let linter: ESLint;
  before(async function () {
    linter = await boundaryLinter();
  });

  it('refuses Fabric in the model and the rules', async function () {
    for (const file of ['ledger-model/src/x.ts', 'rules/src/domain/x.ts']) {
      for (const spec of ['fabric-contract-api', '@hyperledger/fabric-gateway', '@grpc/grpc-js']) {
        const found = await refusals(linter, file, `import { a } from '${spec}';\nexport const b = a;\n`);
        expect(found, `${spec} in ${file}`).to.have.length(1);
        expect(found[0]).to.include('free of Fabric');
      }
    }
  });

  it('refuses an app or a tool in a library, and the chaincode in an app', async function () {
    const cases: [string, string][] = [
      ['ledger-client/src/x.ts', '@threadseal/cli'],
      ['dsi-container/src/x.ts', '@threadseal/network'],
      ['rules/src/x.ts', '@threadseal/ledger-client'],
      ['ledger-model/src/x.ts', '@threadseal/rules'],
      ['cli/src/x.ts', '@threadseal/chaincode'],
      ['enforce-agent/src/x.ts', '@threadseal/chaincode'],
      ['chaincode/src/contracts/x.ts', '@threadseal/ledger-client'],
    ];
    for (const [file, spec] of cases) {
      const found = await refusals(linter, file, `import { a } from '${spec}';\nexport const b = a;\n`);
      expect(found, `${spec} in ${file}`).to.have.length(1);
      expect(found[0]).to.match(/layer may import only/);
    }
  });

  it("refuses another workspace's internals, by deep package path or by relative path", async function () {
    const deep = await refusals(
      linter,
      'cli/src/x.ts',
      "import { a } from '@threadseal/ledger-client/src/client/aggregates';\nexport const b = a;\n",
    );
    expect(deep.join(' | ')).to.include('never its src/ or dist/');
    const relative = await refusals(
      linter,
      'cli/src/commands/x.ts',
      "import { a } from '../../../chaincode/src/index';\nexport const b = a;\n",
    );
    expect(relative).to.have.length(1);
    expect(relative[0]).to.match(
      /^'\.\.\/\.\.\/\.\.\/chaincode\/src\/index' import is restricted .*relative imports stay inside their workspace: import the package by name$/,
    );
  });

  it('lets only tests import the test support', async function () {
    const shipped = await refusals(
      linter,
      'chaincode/src/contracts/x.ts',
      "import { a } from '@threadseal/test-support';\nexport const b = a;\n",
    );
    expect(shipped).to.have.length(1);
    const test = await refusals(
      linter,
      'chaincode/src/contracts/x.test.ts',
      "import { a } from '@threadseal/test-support';\nexport const b = a;\n",
    );
    expect(test).to.deep.equal([]);
  });

  it('accepts what the map allows (a control: the rule is not refusing everything)', async function () {
    const cases: [string, string][] = [
      ['rules/src/x.ts', '@threadseal/ledger-model'],
      ['chaincode/src/x.ts', '@threadseal/rules'],
      ['cli/src/x.ts', '@threadseal/ledger-client'],
      ['ledger-client/src/x.ts', '@threadseal/ledger-model'],
      ['test/src/x.ts', '@threadseal/test-support/ledger'],
    ];
    for (const [file, spec] of cases) {
      expect(
        await refusals(linter, file, `import { a } from '${spec}';\nexport const b = a;\n`),
        `${spec} in ${file}`,
      ).to.deep.equal([]);
    }
  });
});

import { LedgerError, type StartBuildRequest } from '@threadseal/ledger-model';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { expect } from 'chai';
import { completeBuild, startBuild } from '../domain/build-rules.js';
import { registerDsi } from '../domain/dsi-rules.js';
import { allocateUnits, issueLicense } from '../domain/license-rules.js';
import { recipientKeyId, registerMachine } from '../domain/machine-rules.js';
import { recordRelease } from '../domain/release-rules.js';
import { txTime } from '../domain/time.js';
import {
  decodeAbortBuild,
  decodeAllocate,
  decodeAllocationRef,
  decodeBuildNonceRef,
  decodeBuildRef,
  decodeCompleteBuild,
  decodeDsiRef,
  decodeIssueLicense,
  decodeLicenseRef,
  decodeMachineRef,
  decodeDeactivateMachine,
  decodeRotateMachineKeys,
  decodeRecordRelease,
  decodeReleaseRef,
  decodePartRef,
  decodeProductionTerms,
  decodeRegisterDsi,
  decodeRegisterMachine,
  decodeRevokeDsi,
  decodeRevokeLicense,
  decodeScrapBuild,
  decodeSplitLicense,
  decodeStartBuild,
  decodeSupersedeDsi,
} from '../inputs/decoders.js';
import { DTO_EXAMPLES } from './dto-examples.js';
import type { OUTPUT_SCHEMAS } from './dto-schemas.js';
import { DTO_SCHEMAS, INPUT_SCHEMAS } from './dto-schemas.js';

type InputName = keyof typeof INPUT_SCHEMAS;

/** The decoder of each input schema. */
const DECODERS: Record<InputName, (value: unknown) => unknown> = {
  RegisterDsiInput: decodeRegisterDsi,
  SupersedeDsiInput: decodeSupersedeDsi,
  RevokeDsiInput: decodeRevokeDsi,
  GetDsiInput: decodeDsiRef,
  DsiTreeInput: decodeDsiRef,
  ProductionTerms: decodeProductionTerms,
  IssueLicenseInput: decodeIssueLicense,
  SplitLicenseInput: decodeSplitLicense,
  AllocateInput: decodeAllocate,
  RevokeLicenseInput: decodeRevokeLicense,
  LicenseRef: decodeLicenseRef,
  RegisterMachineInput: decodeRegisterMachine,
  MachineRef: decodeMachineRef,
  DeactivateMachineInput: decodeDeactivateMachine,
  RotateMachineKeysInput: decodeRotateMachineKeys,
  RecordReleaseInput: decodeRecordRelease,
  ReleaseRef: decodeReleaseRef,
  StartBuildInput: decodeStartBuild,
  CompleteBuildInput: decodeCompleteBuild,
  AbortBuildInput: decodeAbortBuild,
  ScrapBuildInput: decodeScrapBuild,
  BuildRef: decodeBuildRef,
  BuildNonceRef: decodeBuildNonceRef,
  PartRef: decodePartRef,
  AllocationRef: decodeAllocationRef,
};

const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
const validators = new Map(
  Object.entries(DTO_SCHEMAS).map(([name, schema]) => [name, ajv.compile(schema)] as const),
);

function schemaAccepts(name: string, value: unknown): boolean {
  const validate = validators.get(name);
  if (!validate) throw new Error(`no schema ${name}`);
  return validate(value);
}

function decoderAccepts(name: InputName, value: unknown): boolean {
  try {
    DECODERS[name](value);
    return true;
  } catch (error) {
    if (error instanceof LedgerError && error.code === 'INVALID_ARGUMENT') return false;
    throw error;
  }
}

const clone = <T>(value: T): T => structuredClone(value);
const without = (value: object, key: string): Record<string, unknown> =>
  Object.fromEntries(Object.entries(value).filter(([k]) => k !== key));

/** Inputs that both the schema and the decoder must refuse (or, for unknown members, both accept). */
const invalidInputs: readonly { readonly name: InputName; readonly what: string; readonly value: unknown }[] =
  [
    ...(Object.keys(INPUT_SCHEMAS) as InputName[]).flatMap((name) => {
      const example = DTO_EXAMPLES[name] as Record<string, unknown>;
      const [firstKey] = Object.keys(example);
      if (firstKey === undefined) return [];
      return [
        { name, what: `without ${firstKey}`, value: without(example, firstKey) },
        { name, what: `${firstKey} as a number`, value: { ...example, [firstKey]: 42 } },
        { name, what: 'an array', value: [example] },
        { name, what: 'null', value: null },
      ];
    }),
    {
      name: 'RegisterDsiInput',
      what: 'a signature that is not base64',
      value: { ...DTO_EXAMPLES.RegisterDsiInput, signature: 'not base64!' },
    },
    {
      name: 'RegisterDsiInput',
      what: 'an upper-case DSI id',
      value: { ...DTO_EXAMPLES.RegisterDsiInput, dsiId: 'A'.repeat(64) },
    },
    {
      name: 'RegisterDsiInput',
      what: 'a public key where the signer certificate goes',
      value: {
        ...DTO_EXAMPLES.RegisterDsiInput,
        signerCertificate: DTO_EXAMPLES.RegisterMachineInput.publicKeyPem,
      },
    },
    {
      name: 'IssueLicenseInput',
      what: 'quantity 0',
      value: {
        ...DTO_EXAMPLES.IssueLicenseInput,
        grant: { ...DTO_EXAMPLES.IssueLicenseInput.grant, quantity: 0 },
      },
    },
    {
      name: 'IssueLicenseInput',
      what: 'a fractional quantity',
      value: {
        ...DTO_EXAMPLES.IssueLicenseInput,
        grant: { ...DTO_EXAMPLES.IssueLicenseInput.grant, quantity: 1.5 },
      },
    },
    {
      name: 'IssueLicenseInput',
      what: 'an unknown mode',
      value: {
        ...DTO_EXAMPLES.IssueLicenseInput,
        grant: { ...DTO_EXAMPLES.IssueLicenseInput.grant, mode: 'printing' },
      },
    },
    {
      name: 'IssueLicenseInput',
      what: 'a date without time',
      value: {
        ...DTO_EXAMPLES.IssueLicenseInput,
        grant: { ...DTO_EXAMPLES.IssueLicenseInput.grant, validFrom: '2026-01-01' },
      },
    },
    {
      name: 'IssueLicenseInput',
      what: 'terms null',
      value: { ...DTO_EXAMPLES.IssueLicenseInput, terms: null },
    },
    {
      name: 'ProductionTerms',
      what: 'an envelope bound of unknown kind',
      value: { ...DTO_EXAMPLES.ProductionTerms, envelope: [{ name: 'p', unit: 'W', kind: 'between' }] },
    },
    {
      name: 'ProductionTerms',
      what: 'a range bound without max',
      value: { ...DTO_EXAMPLES.ProductionTerms, envelope: [{ name: 'p', unit: 'W', kind: 'range', min: 1 }] },
    },
    {
      name: 'ProductionTerms',
      what: 'an exact bound with an empty value',
      value: {
        ...DTO_EXAMPLES.ProductionTerms,
        envelope: [{ name: 'p', unit: '', kind: 'exact', value: '' }],
      },
    },
    {
      name: 'ProductionTerms',
      what: 'duplicate workstations',
      value: { ...DTO_EXAMPLES.ProductionTerms, workstations: ['ws-1', 'ws-1'] },
    },
    {
      name: 'RegisterMachineInput',
      what: 'an id with a space',
      value: { ...DTO_EXAMPLES.RegisterMachineInput, machineId: 'eos m290' },
    },
    {
      name: 'StartBuildInput',
      what: 'another request type',
      value: {
        ...DTO_EXAMPLES.StartBuildInput,
        request: { ...DTO_EXAMPLES.StartBuildInput.request, type: 'threadseal.start-build.v0' },
      },
    },
    {
      name: 'StartBuildInput',
      what: 'a short nonce',
      value: {
        ...DTO_EXAMPLES.StartBuildInput,
        request: { ...DTO_EXAMPLES.StartBuildInput.request, nonce: 'abc' },
      },
    },
    {
      name: 'StartBuildInput',
      what: 'a boolean parameter',
      value: {
        ...DTO_EXAMPLES.StartBuildInput,
        request: { ...DTO_EXAMPLES.StartBuildInput.request, parameters: { preheat: true } },
      },
    },
    {
      name: 'StartBuildInput',
      what: 'a signature that is not base64',
      value: { ...DTO_EXAMPLES.StartBuildInput, signature: 'not base64!' },
    },
    {
      name: 'ScrapBuildInput',
      what: 'a short evidence digest',
      value: { ...DTO_EXAMPLES.ScrapBuildInput, evidenceDigest: 'XYZ' },
    },
    {
      name: 'ScrapBuildInput',
      what: 'requestCredit as a string',
      value: { ...DTO_EXAMPLES.ScrapBuildInput, requestCredit: 'yes' },
    },
  ];

/** Outputs as the rules produce them from the examples, so the output schemas are checked against real values. */
function ruleOutputs(): Record<keyof typeof OUTPUT_SCHEMAS, unknown> {
  const now = txTime('2026-03-02T09:30:00.000Z');
  const { dsi } = registerDsi(
    {
      dsiId: DTO_EXAMPLES.RegisterDsiInput.dsiId,
      partNumber: 'HSG-2210',
      revision: 'B',
      title: 'Inconel turbine housing',
      fileDigests: [
        {
          path: 'model/housing.3mf',
          ciphertextDigest: '03f4884a8deed0886c0db1f652345d0ef03aa65ae86a119e9a51a3762950393b',
        },
      ],
      ownerCertFingerprint: '811da315484967c9006b81c6ed0e4edf12be9896a8d6cb5477f739db58239110',
    },
    'OemMSP',
    now,
  );
  const issue = DTO_EXAMPLES.IssueLicenseInput;
  const created = issueLicense(dsi, issue, issue.terms, null, now, 'tx-issue');
  const { machine } = registerMachine(DTO_EXAMPLES.RegisterMachineInput, 'ManufacturerMSP', now);
  const chain = [{ license: created.license, revocation: created.revocation, terms: issue.terms }];
  const { allocation } = allocateUnits(
    dsi,
    chain,
    created.balance,
    null,
    machine,
    DTO_EXAMPLES.AllocateInput,
    now,
  );
  // The rules take an authenticated request: the signature is the caller's check (assertRequestAuthentic).
  const request: StartBuildRequest = DTO_EXAMPLES.StartBuildInput.request;
  const operator = {
    mspId: 'ManufacturerMSP',
    id: 'x509::CN=operator',
    role: 'am-operator',
    qualifications: [],
  };
  const started = startBuild(dsi, chain, allocation, machine, operator, request, now, 'tx-start');
  const released = recordRelease(
    dsi,
    chain,
    started.build,
    machine,
    { mspId: dsi.ownerMsp, id: 'x509::CN=key-release', role: 'key-release', qualifications: [] },
    {
      buildId: started.build.buildId,
      stanza: { ...DTO_EXAMPLES.RecordReleaseInput.stanza, keyId: recipientKeyId(machine) },
    },
    now,
  );
  const completed = completeBuild(
    started.build,
    { ...DTO_EXAMPLES.CompleteBuildInput, buildId: started.build.buildId },
    now,
  );
  return {
    Dsi: dsi,
    License: created.license,
    Allocation: started.allocation,
    Machine: machine,
    Build: completed.build,
    Part: completed.part,
    KeyRelease: released.release,
  };
}

describe('DTO JSON Schemas', () => {
  it('are draft 2020-12 schemas that compile in strict mode, one per input DTO and main output', () => {
    expect(Object.keys(DTO_SCHEMAS).sort()).to.deep.equal(
      [
        ...Object.keys(INPUT_SCHEMAS),
        'Allocation',
        'Build',
        'Dsi',
        'KeyRelease',
        'License',
        'Machine',
        'Part',
      ].sort(),
    );
    for (const schema of Object.values(DTO_SCHEMAS))
      expect(schema.$schema).to.equal('https://json-schema.org/draft/2020-12/schema');
  });

  it('accept every published example, and so do the decoders', () => {
    for (const name of Object.keys(INPUT_SCHEMAS) as InputName[]) {
      const schema = INPUT_SCHEMAS[name];
      expect(schema.examples, name).to.deep.equal([DTO_EXAMPLES[name]]);
      expect(schemaAccepts(name, DTO_EXAMPLES[name]), name).to.equal(true);
      expect(decoderAccepts(name, clone(DTO_EXAMPLES[name])), name).to.equal(true);
    }
  });

  it('accept the outputs the rules produce', () => {
    for (const [name, value] of Object.entries(ruleOutputs()))
      expect(schemaAccepts(name, value), `${name}: ${JSON.stringify(validators.get(name)?.errors)}`).to.equal(
        true,
      );
  });

  it('refuse the outputs with a member missing or added', () => {
    for (const [name, value] of Object.entries(ruleOutputs())) {
      const [firstKey] = Object.keys(value as object);
      expect(schemaAccepts(name, without(value as object, firstKey ?? '')), name).to.equal(false);
      expect(schemaAccepts(name, { ...(value as object), extra: 1 }), name).to.equal(false);
    }
  });

  it('agree with the decoders on invalid inputs', () => {
    for (const { name, what, value } of invalidInputs) {
      expect([schemaAccepts(name, value), decoderAccepts(name, value)], `${name} ${what}`).to.deep.equal([
        false,
        false,
      ]);
    }
  });

  it('accept unknown members of an input, which the decoders drop', () => {
    for (const name of Object.keys(INPUT_SCHEMAS) as InputName[]) {
      const value = { ...DTO_EXAMPLES[name], injected: true };
      expect([schemaAccepts(name, value), decoderAccepts(name, value)], name).to.deep.equal([true, true]);
    }
  });
});

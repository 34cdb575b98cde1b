import { expect } from 'chai';
import { START_BUILD_REQUEST_TYPE, type StartBuildInput } from './build.js';
import { confidentialTransport, isConfidential } from './confidential-transport.js';
import type { IssueLicenseInput, LicenseGrant, ProductionTerms, SplitLicenseInput } from './license.js';

const terms: ProductionTerms = {
  machines: { makes: [], models: [], serials: [], requiredCertifications: [] },
  envelope: [{ name: 'laserPower', unit: 'W', kind: 'range', min: 100, max: 200 }],
  operators: { roles: [], qualifications: [] },
  workstations: [],
};
const parentTerms: ProductionTerms = { ...terms, workstations: ['ws-1'] };
const grant: LicenseGrant = {
  quantity: 2,
  mode: 'manufacturing',
  validFrom: '2026-01-01T00:00:00.000Z',
  validUntil: '2027-01-01T00:00:00.000Z',
  maySublicense: false,
  scrapAllowance: 0,
};
const issue = (confidential: boolean): IssueLicenseInput => ({
  licenseId: 'L1',
  dsiId: 'd'.repeat(64),
  holderMsp: 'ManufacturerMSP',
  grant,
  confidential,
  terms,
});
const split: SplitLicenseInput = { parentId: 'L1', licenseId: 'L2', holderMsp: 'SubMSP', grant, terms };
const start: StartBuildInput = {
  request: {
    type: START_BUILD_REQUEST_TYPE,
    licenseId: 'L2',
    machineId: 'm1',
    operator: '0'.repeat(64),
    nonce: 'nonce-0001',
    issuedAt: '2026-03-01T08:00:00.000Z',
    parameters: { laserPower: 150 },
  },
  signature: 'AA==',
};
const PUBLIC = { confidential: null };
const CONFIDENTIAL = { confidential: { collection: 'terms-A-B' } };

describe('confidential transport', () => {
  it('reads a license’s own flag: true or a collection is confidential, false or null is not', () => {
    expect(
      [true, { collection: 'c' }, false, null].map((confidential) => isConfidential({ confidential })),
    ).to.deep.equal([true, true, false, false]);
  });

  it('sends everything in the argument for a public license, even terms that were passed', () => {
    expect(confidentialTransport({ name: 'license:Issue', input: issue(false) })).to.deep.equal({
      argument: issue(false),
      transient: {},
    });
    expect(
      confidentialTransport({ name: 'license:Split', input: split, parent: PUBLIC, parentTerms }),
    ).to.deep.equal({
      argument: split,
      transient: {},
    });
    const allocate = { licenseId: 'L2', machineId: 'm1', quantity: 1, scrapAllowance: 0 };
    expect(
      confidentialTransport({
        name: 'license:Allocate',
        input: allocate,
        license: PUBLIC,
        licenseTerms: terms,
      }),
    ).to.deep.equal({ argument: allocate, transient: {} });
    expect(
      confidentialTransport({ name: 'build:Start', input: start, license: PUBLIC, licenseTerms: terms }),
    ).to.deep.equal({ argument: start, transient: {} });
  });

  it('moves terms, parent terms and the StartBuild input into the transient map for a confidential license', () => {
    const issueArgument = {
      licenseId: 'L1',
      dsiId: 'd'.repeat(64),
      holderMsp: 'ManufacturerMSP',
      grant,
      confidential: true,
    };
    // New confidential terms travel with a fresh digest key (kept when the caller gave one).
    const keyed = { ...terms, digestKey: 'a'.repeat(64) };
    expect(
      confidentialTransport({ name: 'license:Issue', input: { ...issue(true), terms: keyed } }),
    ).to.deep.equal({
      argument: issueArgument,
      transient: { terms: JSON.stringify(keyed) },
    });
    const splitArgument = { parentId: 'L1', licenseId: 'L2', holderMsp: 'SubMSP', grant };
    expect(
      confidentialTransport({
        name: 'license:Split',
        input: { ...split, terms: keyed },
        parent: CONFIDENTIAL,
        parentTerms,
      }),
    ).to.deep.equal({
      argument: splitArgument,
      transient: { terms: JSON.stringify(keyed), 'terms.L1': JSON.stringify(parentTerms) },
    });
    const allocate = { licenseId: 'L2', machineId: 'm1', quantity: 1, scrapAllowance: 0 };
    expect(
      confidentialTransport({
        name: 'license:Allocate',
        input: allocate,
        license: CONFIDENTIAL,
        licenseTerms: terms,
      }),
    ).to.deep.equal({ argument: allocate, transient: { 'terms.L2': JSON.stringify(terms) } });
    expect(
      confidentialTransport({
        name: 'build:Start',
        input: start,
        license: CONFIDENTIAL,
        licenseTerms: terms,
      }),
    ).to.deep.equal({
      argument: {},
      transient: { startBuild: JSON.stringify(start), 'terms.L2': JSON.stringify(terms) },
    });
  });

  it('gives new confidential terms a fresh 32-byte digest key, a different one each time', () => {
    const sent = (): ProductionTerms =>
      JSON.parse(
        confidentialTransport({ name: 'license:Issue', input: issue(true) }).transient['terms'] ?? 'null',
      ) as ProductionTerms;
    const [first, second] = [sent(), sent()];
    expect(first.digestKey).to.match(/^[0-9a-f]{64}$/);
    expect(second.digestKey).to.match(/^[0-9a-f]{64}$/);
    expect(first.digestKey).to.not.equal(second.digestKey);
    expect({ ...first, digestKey: undefined }).to.deep.equal({ ...terms, digestKey: undefined });
    const child = JSON.parse(
      confidentialTransport({ name: 'license:Split', input: split, parent: CONFIDENTIAL, parentTerms })
        .transient['terms'] ?? 'null',
    ) as ProductionTerms;
    expect(child.digestKey).to.match(/^[0-9a-f]{64}$/);
    // Public terms get none: they are on the channel.
    expect(confidentialTransport({ name: 'license:Issue', input: issue(false) }).argument).to.deep.equal(
      issue(false),
    );
  });

  it('keeps the StartBuild input off the argument under a confidential license even without its terms', () => {
    expect(confidentialTransport({ name: 'build:Start', input: start, license: CONFIDENTIAL })).to.deep.equal(
      {
        argument: {},
        transient: { startBuild: JSON.stringify(start) },
      },
    );
  });
});

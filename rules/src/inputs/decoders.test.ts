import { LedgerError } from '@threadseal/ledger-model';
import { expect } from 'chai';
import { DTO_EXAMPLES } from '../schemas/dto-examples.js';
import {
  decodeIssueLicense,
  decodeProductionTerms,
  decodeRegisterDsi,
  decodeScrapBuild,
  parseArgument,
} from './decoders.js';

const DSI = DTO_EXAMPLES.RegisterDsiInput;
const ROOT_GRANT = DTO_EXAMPLES.IssueLicenseInput.grant;
const ROOT_TERMS = DTO_EXAMPLES.ProductionTerms;

const invalid = (fn: () => unknown, message: string): Chai.Assertion =>
  expect(fn).to.throw(LedgerError, `INVALID_ARGUMENT: ${message}`);

describe('transaction input decoding', () => {
  it('refuses an argument that is not JSON', () => {
    invalid(
      () => parseArgument('{oops', 'license:Split'),
      'license:Split: argument must be one JSON object, got "{oops"',
    );
  });

  it('returns a fresh object without unknown members', () => {
    const raw = {
      licenseId: 'L1',
      dsiId: DSI.dsiId,
      holderMsp: 'ManufacturerMSP',
      grant: { ...ROOT_GRANT, extra: 1 },
      confidential: false,
      terms: ROOT_TERMS,
      injected: true,
    };
    const decoded = decodeIssueLicense(raw);
    expect(decoded).not.to.equal(raw);
    expect(decoded).not.to.have.property('injected');
    expect(decoded.grant).to.deep.equal(ROOT_GRANT);
  });

  it('names the path, the expectation and what was found', () => {
    invalid(
      () => decodeIssueLicense({ licenseId: 'L 1' }),
      'input.licenseId: expected an id of 1..128 characters [A-Za-z0-9._:@+-] starting alphanumeric, got "L 1"',
    );
    invalid(
      () =>
        decodeIssueLicense({
          licenseId: 'L1',
          dsiId: DSI.dsiId,
          holderMsp: 'M',
          grant: { ...ROOT_GRANT, quantity: 0 },
          confidential: false,
        }),
      'input.grant.quantity: expected an integer >= 1, got 0',
    );
    invalid(
      () =>
        decodeIssueLicense({
          licenseId: 'L1',
          dsiId: DSI.dsiId,
          holderMsp: 'M',
          grant: { ...ROOT_GRANT, validFrom: '2026-01-01' },
          confidential: false,
        }),
      'input.grant.validFrom: expected an ISO 8601 UTC instant like 2026-01-01T00:00:00.000Z, got "2026-01-01"',
    );
    invalid(
      () =>
        decodeIssueLicense({
          licenseId: 'L1',
          dsiId: DSI.dsiId,
          holderMsp: 'M',
          grant: { ...ROOT_GRANT, validUntil: ROOT_GRANT.validFrom },
          confidential: false,
        }),
      'input.grant.validUntil: expected an instant after validFrom 2026-01-01T00:00:00.000Z, got "2026-01-01T00:00:00.000Z"',
    );
    invalid(
      () =>
        decodeRegisterDsi({
          dsiId: DSI.dsiId,
          manifest: DSI.manifest,
          signature: DSI.signature,
          signerCertificate: 'ab',
        }),
      'input.signerCertificate: expected one PEM certificate, got "ab"',
    );
    invalid(
      () => decodeScrapBuild({ buildId: 'b', reason: 'r', evidenceDigest: 'XYZ', requestCredit: true }),
      'input.evidenceDigest: expected 64 lower-case hex characters (SHA-256), got "XYZ"',
    );
  });

  it('checks envelopes: kinds, ranges and unique names', () => {
    invalid(
      () =>
        decodeProductionTerms({
          ...ROOT_TERMS,
          envelope: [{ name: 'p', unit: 'W', kind: 'range', min: 5, max: 1 }],
        }),
      'terms.envelope[0].max: expected a number >= min 5, got 1',
    );
    invalid(
      () => decodeProductionTerms({ ...ROOT_TERMS, envelope: [{ name: 'p', unit: 'W', kind: 'between' }] }),
      'terms.envelope[0].kind: expected range or exact, got "between"',
    );
    invalid(
      () =>
        decodeProductionTerms({ ...ROOT_TERMS, envelope: [ROOT_TERMS.envelope[0], ROOT_TERMS.envelope[0]] }),
      'terms.envelope: expected unique parameter names, got ["laserPower","laserPower"]',
    );
    invalid(
      () => decodeProductionTerms({ ...ROOT_TERMS, workstations: ['a', 'a'] }),
      'terms.workstations: expected no duplicate entries, got ["a","a"]',
    );
  });
});

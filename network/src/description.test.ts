import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { parseDescription } from './description';
import { NetworkError } from './errors';
import { planNetwork } from './plan';

const referenceText = readFileSync(join(__dirname, '..', 'profiles', 'reference.yaml'), 'utf8');

function errorOf(fn: () => unknown): NetworkError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(NetworkError);
    return err as NetworkError;
  }
  throw new Error('expected a NetworkError');
}

describe('network description', function () {
  it('describes the reference consortium: OEM, contract manufacturer, subcontractor and 3 Raft orderers', function () {
    const d = parseDescription(referenceText);
    expect(d.orgs.map((o) => o.mspId)).to.deep.equal(['OemMSP', 'ManufacturerMSP', 'SubcontractorMSP']);
    expect(d.ordererOrg.orderers).to.have.length(3);
    expect(d.channel.batchTimeout).to.equal('100ms');
  });

  it('names the field, the expectation and what it found when a field is wrong', function () {
    const err = errorOf(() => parseDescription(referenceText.replace('mspId: OemMSP', 'mspId: 42')));
    expect(err.code).to.equal('INVALID_DESCRIPTION');
    expect(err.message).to.equal(
      'INVALID_DESCRIPTION: orgs[0].mspId: expected a string matching /^[A-Za-z][A-Za-z0-9]*$/, found 42',
    );
  });

  it('rejects a batch timeout above 250 ms', function () {
    const err = errorOf(() =>
      parseDescription(referenceText.replace('batchTimeout: 100ms', 'batchTimeout: 2s')),
    );
    expect(err.message).to.equal(
      'INVALID_DESCRIPTION: channel.batchTimeout: expected at most 250ms, found "2s"',
    );
  });

  it('writes channel capability V2_0 unless the description asks for V3_0, and refuses anything else', function () {
    expect(parseDescription(referenceText).channel.capability).to.equal('V2_0');
    const withoutField = referenceText.replace(/^  capability: V2_0\n/m, '');
    expect(withoutField).to.not.include('capability: V2_0');
    expect(parseDescription(withoutField).channel.capability).to.equal('V2_0');
    const v3 = referenceText.replace('capability: V2_0', 'capability: V3_0');
    expect(parseDescription(v3).channel.capability).to.equal('V3_0');
    const err = errorOf(() =>
      parseDescription(referenceText.replace('capability: V2_0', 'capability: V1_4_3')),
    );
    expect(err.message).to.equal(
      'INVALID_DESCRIPTION: channel.capability: expected V2_0 or V3_0, found "V1_4_3"',
    );
  });

  it('rejects two orgs with the same MSP id', function () {
    const err = errorOf(() =>
      parseDescription(referenceText.replace('mspId: SubcontractorMSP', 'mspId: OemMSP')),
    );
    expect(err.message).to.equal('INVALID_DESCRIPTION: orgs: expected unique MSP ids, found "OemMSP"');
  });
});

describe('network plan', function () {
  const d = parseDescription(referenceText);

  it('gives every listener its own port, starting at the base port', function () {
    const plan = planNetwork(d, { stateDir: '/tmp/x', repoRoot: '/repo' });
    const ports = plan.ports.map((p) => p.port);
    expect(new Set(ports).size).to.equal(ports.length);
    expect(Math.min(...ports)).to.equal(d.basePort);
    // 4 CAs × 2, 3 peers × 4, 3 orderers × 3
    expect(ports).to.have.length(8 + 12 + 9);
  });

  it('moves every port with --base-port so two networks can run side by side', function () {
    const a = planNetwork(d, { stateDir: '/tmp/a', repoRoot: '/repo' });
    const b = planNetwork(d, { stateDir: '/tmp/b', repoRoot: '/repo', basePort: 27100 });
    expect(b.ports.map((p) => p.port - 27100)).to.deep.equal(a.ports.map((p) => p.port - d.basePort));
  });
});

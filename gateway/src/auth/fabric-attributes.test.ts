import { X509Certificate } from 'node:crypto';
import { expect } from 'chai';
import { isThreadsealError } from '@threadseal/ledger-model';
import { hasOpenssl, OpensslCa } from '../testing/openssl-pki';
import { callerOf } from './caller';
import { fabricAttributes } from './fabric-attributes';

describe('Fabric CA attributes and callers from client certificates', function () {
  this.timeout(30_000);
  let ca: OpensslCa | undefined;
  before(function () {
    if (!hasOpenssl()) {
      console.log('    skipped: the openssl command line is not installed');
      this.skip();
    }
    ca = new OpensslCa('attr-ca');
  });
  after(function () {
    ca?.dispose();
  });
  const der = (pem: string): Buffer => Buffer.from(new X509Certificate(pem).raw);

  it('reads role and qualification from the extension 1.2.3.4.5.6.7.8.1', function () {
    const cert = (ca as OpensslCa).client('op', {
      role: 'am-operator',
      qualification: 'nadcap-am,ti-powder',
    });
    expect(fabricAttributes(der(cert.certPem))).to.include({
      role: 'am-operator',
      qualification: 'nadcap-am,ti-powder',
    });
    const caller = callerOf(der(cert.certPem), {
      mspId: 'ManufacturerMSP',
      caCertificatePem: (ca as OpensslCa).certPem,
    });
    expect(caller).to.deep.include({
      mspId: 'ManufacturerMSP',
      name: 'op',
      role: 'am-operator',
      qualifications: ['nadcap-am', 'ti-powder'],
    });
  });

  it('finds no attribute in a certificate without the extension', function () {
    expect(fabricAttributes(der((ca as OpensslCa).server().certPem))).to.deep.equal({});
  });

  it('refuses truncated DER with UNAUTHENTICATED', function () {
    const bytes = der((ca as OpensslCa).client('x', { role: 'ip-admin' }).certPem);
    for (const cut of [1, 10, bytes.length - 5]) {
      let error: unknown;
      try {
        fabricAttributes(bytes.subarray(0, cut));
      } catch (err) {
        error = err;
      }
      expect(isThreadsealError(error, 'UNAUTHENTICATED'), String(cut)).to.equal(true);
    }
  });

  it('refuses a certificate of another CA and an expired one', function () {
    const other = new OpensslCa('other');
    try {
      const org = { mspId: 'OemMSP', caCertificatePem: (ca as OpensslCa).certPem };
      expect(() => callerOf(der(other.client('x', { role: 'ip-admin' }).certPem), org)).to.throw(
        /UNAUTHENTICATED: client certificate is not issued by the CA of OemMSP/,
      );
      expect(() => callerOf(der((ca as OpensslCa).client('y', {}, { expired: true }).certPem), org)).to.throw(
        /UNAUTHENTICATED: client certificate is outside its validity period/,
      );
    } finally {
      other.dispose();
    }
  });
});

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/*
 * TEST-ONLY: a throw-away CA made with the openssl command line, issuing certificates shaped like Fabric CA
 * enrollment certificates (the attribute extension 1.2.3.4.5.6.7.8.1 with `{"attrs":{…}}`), a TLS server
 * certificate for 127.0.0.1, and expired ones. Lives in a temporary folder removed by `dispose`.
 */

/** A certificate and its key, PEM. */
export interface TestCredential {
  readonly certPem: string;
  readonly keyPem: string;
}

/** Whether the openssl command line is there (tests skip with a message when it is not). */
export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const CA_CONFIG = `[ ca ]
default_ca = ca_default
[ ca_default ]
database = index.txt
new_certs_dir = .
serial = serial
crlnumber = crlnumber
default_crl_days = 1
default_md = sha256
policy = policy_any
unique_subject = no
[ policy_any ]
commonName = supplied
organizationalUnitName = optional
`;

/** A test CA in a temporary folder. */
export class OpensslCa {
  readonly dir: string;
  readonly certPem: string;
  #serial = 1;

  constructor(name: string) {
    this.dir = mkdtempSync(join(tmpdir(), 'threadseal-gateway-pki-'));
    this.#run([
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-subj',
      `/CN=${name}`,
      '-days',
      '2',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    writeFileSync(join(this.dir, 'ca.cnf'), CA_CONFIG);
    writeFileSync(join(this.dir, 'index.txt'), '');
    writeFileSync(join(this.dir, 'serial'), '1000\n');
    writeFileSync(join(this.dir, 'crlnumber'), '1000\n');
    this.certPem = readFileSync(join(this.dir, 'ca.pem'), 'utf8');
  }

  #run(args: readonly string[]): void {
    execFileSync('openssl', args, { cwd: this.dir, stdio: 'pipe' });
  }

  /**
   * Issues a client certificate for `name` with Fabric CA attributes (`role`, `qualification`, …); `expired`
   * makes one whose validity ended in 2020.
   */
  client(
    name: string,
    attrs: Readonly<Record<string, string>>,
    options: { expired?: boolean; tlsProfile?: boolean } = {},
  ): TestCredential {
    const json = JSON.stringify({ attrs: { 'hf.EnrollmentID': name, 'hf.Type': 'client', ...attrs } });
    return this.#issue(
      name,
      [
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature',
        `1.2.3.4.5.6.7.8.1=DER:${Buffer.from(json, 'utf8').toString('hex')}`,
        // Like a certificate of Fabric CA's TLS profile: usable for TLS servers and clients.
        ...(options.tlsProfile ? ['extendedKeyUsage=serverAuth,clientAuth'] : []),
      ],
      options.expired === true,
      'client',
    );
  }

  /** Issues the TLS server certificate of 127.0.0.1 / localhost. */
  server(): TestCredential {
    return this.#issue(
      'localhost',
      [
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature',
        'extendedKeyUsage=serverAuth',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
      ],
      false,
    );
  }

  #issue(name: string, extensions: readonly string[], expired: boolean, ou?: string): TestCredential {
    const base = `c${this.#serial++}`;
    writeFileSync(join(this.dir, `${base}.ext`), `${extensions.join('\n')}\n`);
    this.#run([
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      `${base}.key`,
      '-out',
      `${base}.csr`,
      '-subj',
      `${ou ? `/OU=${ou}` : ''}/CN=${name}`,
    ]);
    this.#run([
      'ca',
      '-batch',
      '-config',
      'ca.cnf',
      '-cert',
      'ca.pem',
      '-keyfile',
      'ca.key',
      '-in',
      `${base}.csr`,
      '-out',
      `${base}.pem`,
      '-notext',
      '-extfile',
      `${base}.ext`,
      ...(expired ? ['-startdate', '20200101000000Z', '-enddate', '20200102000000Z'] : ['-days', '1']),
    ]);
    return {
      certPem: readFileSync(join(this.dir, `${base}.pem`), 'utf8'),
      keyPem: readFileSync(join(this.dir, `${base}.key`), 'utf8'),
    };
  }

  /** Revokes a certificate this CA issued (it appears on the next {@link OpensslCa.crl}). */
  revoke(credential: TestCredential): void {
    const file = `revoke-${this.#serial++}.pem`;
    writeFileSync(join(this.dir, file), credential.certPem);
    this.#run([
      'ca',
      '-batch',
      '-config',
      'ca.cnf',
      '-cert',
      'ca.pem',
      '-keyfile',
      'ca.key',
      '-revoke',
      file,
    ]);
  }

  /** A CRL (PEM) signed by this CA listing every certificate revoked so far. */
  crl(): string {
    this.#run([
      'ca',
      '-batch',
      '-config',
      'ca.cnf',
      '-cert',
      'ca.pem',
      '-keyfile',
      'ca.key',
      '-gencrl',
      '-out',
      'crl.pem',
    ]);
    return readFileSync(join(this.dir, 'crl.pem'), 'utf8');
  }

  /** Removes the CA's folder. */
  dispose(): void {
    if (existsSync(this.dir)) rmSync(this.dir, { recursive: true, force: true });
  }
}

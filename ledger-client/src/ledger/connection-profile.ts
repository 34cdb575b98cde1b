import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One org as a client sees it: its MSP, its peers, the TLS root to trust and where its users are enrolled. */
export interface OrgConnection {
  readonly mspId: string;
  readonly peers: readonly { readonly id: string; readonly endpoint: string; readonly hostAlias: string }[];
  readonly tlsCaCert: string;
  readonly usersDir: string;
  readonly users: readonly string[];
}

/** The client view of a network, as `threadseal network up` writes it to `<stateDir>/connection.json`. */
export interface ConnectionProfile {
  readonly network: string;
  readonly channel: string;
  readonly chaincode: string;
  readonly orgs: Readonly<Record<string, OrgConnection>>;
}

/** A profile that cannot be used; the message names the file and the field. */
export class ConnectionProfileError extends Error {
  override readonly name = 'ConnectionProfileError';
}

function need(cond: boolean, file: string, what: string): asserts cond {
  if (!cond) throw new ConnectionProfileError(`${file}: ${what}`);
}

/** Reads and checks a connection profile. */
export function loadConnectionProfile(file: string): ConnectionProfile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConnectionProfileError(`cannot read connection profile ${file}: ${(err as Error).message}`);
  }
  // Checked field by field: the file is input, whatever its declared type.
  const p = raw as { channel?: unknown; chaincode?: unknown; orgs?: unknown };
  need(
    typeof p.channel === 'string' && typeof p.chaincode === 'string',
    file,
    'channel and chaincode must be strings',
  );
  need(typeof p.orgs === 'object' && p.orgs !== null, file, 'orgs must be a mapping');
  for (const [name, org] of Object.entries(p.orgs as Record<string, { mspId?: unknown; peers?: unknown }>)) {
    need(typeof org.mspId === 'string', file, `orgs.${name}.mspId must be a string`);
    need(
      Array.isArray(org.peers) && org.peers.length > 0,
      file,
      `orgs.${name}.peers must be a non-empty list`,
    );
  }
  return raw as ConnectionProfile;
}

/** Where an enrolled user's certificate and key are. */
export function userCredentialPaths(
  org: OrgConnection,
  user: string,
): { certFile: string; keystoreDir: string } {
  const dir = join(org.usersDir, user, 'msp');
  return { certFile: join(dir, 'signcerts', 'cert.pem'), keystoreDir: join(dir, 'keystore') };
}

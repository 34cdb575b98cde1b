import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LedgerError } from '@threadseal/ledger-model';

/**
 * One org as a client sees it: its MSP, its peers, the two roots of its CAs and where its users are
 * enrolled.
 */
export interface OrgConnection {
  readonly mspId: string;
  readonly peers: readonly { readonly id: string; readonly endpoint: string; readonly hostAlias: string }[];
  /** PEM file of the org's TLS CA root: what a client dialling one of its peers trusts. */
  readonly tlsCaCert: string;
  /**
   * PEM file of the org's enrollment CA root: the anchor for the org's member identities (what its users
   * sign, the client certificates its REST gateway accepts). Never a TLS root of a peer.
   */
  readonly enrollmentCaCert: string;
  readonly usersDir: string;
  readonly users: readonly string[];
}

/**
 * The client view of a network, as `threadseal network up` writes it to `<stateDir>/connection.json`. The one
 * declaration of the file's shape: the network tool imports this type to write it.
 */
export interface ConnectionProfile {
  readonly network: string;
  readonly channel: string;
  readonly chaincode: string;
  readonly orgs: Readonly<Record<string, OrgConnection>>;
}

/** Which enrolled user of which org (as named in the connection profile) a connection acts as. */
export interface LedgerUser {
  readonly org: string;
  readonly user: string;
}

/** A profile that cannot be used (code CONNECTION_FAILED); the message names the file and the field. */
export class ConnectionProfileError extends LedgerError {
  constructor(detail: string) {
    super('CONNECTION_FAILED', detail);
    this.name = 'ConnectionProfileError';
  }
}

function need(cond: boolean, file: string, what: string): asserts cond {
  if (!cond) throw new ConnectionProfileError(`${file}: ${what}`);
}

/**
 * Reads and checks a connection profile.
 * @throws ConnectionProfileError when the file cannot be read or lacks a field a client needs.
 */
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
  for (const [name, org] of Object.entries(
    p.orgs as Record<
      string,
      { mspId?: unknown; peers?: unknown; tlsCaCert?: unknown; enrollmentCaCert?: unknown }
    >,
  )) {
    need(typeof org.mspId === 'string', file, `orgs.${name}.mspId must be a string`);
    need(
      typeof org.tlsCaCert === 'string' && typeof org.enrollmentCaCert === 'string',
      file,
      `orgs.${name}.tlsCaCert and orgs.${name}.enrollmentCaCert must be file names (a profile from before the TLS CAs were separated: run \`threadseal network up\` again)`,
    );
    need(
      Array.isArray(org.peers) && org.peers.length > 0,
      file,
      `orgs.${name}.peers must be a non-empty list`,
    );
  }
  return raw as ConnectionProfile;
}

/** The MSP folder of an enrolled user (`signcerts/`, `keystore/`, …), as the network tool lays it out. */
export function userMspDir(org: OrgConnection, user: string): string {
  return join(org.usersDir, user, 'msp');
}

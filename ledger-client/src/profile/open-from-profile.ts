import { existsSync, readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { signers } from '@hyperledger/fabric-gateway';
import { DEFAULT_RETRY, LedgerClient, type RetryPolicy } from '../client/ledger-client';
import type { CausalGroup } from '../connection/causal-group';
import { LedgerConnection, type LedgerDeadlines } from '../connection/ledger-connection';
import {
  ConnectionProfileError,
  loadConnectionProfile,
  userMspDir,
  type LedgerUser,
  type OrgConnection,
} from './connection-profile';
import { loadMspCredentials } from './msp-identity';

/** Options of a connection opened from a connection profile. */
export interface ProfileConnectionOptions {
  /** Per-kind deadlines (see `DEFAULT_DEADLINES`). */
  readonly deadlines?: Partial<LedgerDeadlines>;
  /** The causal group to join; pass the same group to every connection to one network. */
  readonly causal?: CausalGroup;
}

/**
 * A TLS gRPC client to an org's first peer, trusting the org's TLS root; the caller closes it.
 * @throws ConnectionProfileError when the org has no peer or its TLS root cannot be read.
 */
export function peerGrpcClient(orgName: string, org: OrgConnection): grpc.Client {
  const target = org.peers[0];
  if (!target) throw new ConnectionProfileError(`org ${orgName} has no peer`);
  let tlsRoot: Buffer;
  try {
    tlsRoot = readFileSync(org.tlsCaCert);
  } catch (err) {
    throw new ConnectionProfileError(`cannot read the TLS root of ${orgName}: ${(err as Error).message}`);
  }
  return new grpc.Client(target.endpoint, grpc.credentials.createSsl(tlsRoot), {
    'grpc.ssl_target_name_override': target.hostAlias,
  });
}

/**
 * Connects as `who` to its org's first peer, with the user's certificate and the keystore key that matches
 * it, as `threadseal network up` enrolled them. The connection owns the gRPC client it opens: closing the
 * connection closes it. This is the CLI's and the tests' way in; apps with their own gRPC client and signer
 * call `LedgerConnection.connect`.
 * @throws ConnectionProfileError (code CONNECTION_FAILED) when the profile, the org or the user's
 * enrollment cannot be used; LedgerError CONNECTION_FAILED when no key matches the certificate.
 */
export function openLedgerConnection(
  profileFile: string,
  who: LedgerUser,
  options: ProfileConnectionOptions = {},
): LedgerConnection {
  const profile = loadConnectionProfile(profileFile);
  const org = profile.orgs[who.org];
  if (!org) {
    throw new ConnectionProfileError(
      `unknown org ${who.org} (profile has ${Object.keys(profile.orgs).join(', ')})`,
    );
  }
  const mspDir = userMspDir(org, who.user);
  if (!existsSync(mspDir)) {
    throw new ConnectionProfileError(`${who.user}@${who.org} is not enrolled (${mspDir} is missing)`);
  }
  const credentials = loadMspCredentials(mspDir, org.mspId);
  const client = peerGrpcClient(who.org, org);
  try {
    return LedgerConnection.connect({
      client,
      identity: credentials.identity,
      signer: signers.newPrivateKeySigner(credentials.privateKey),
      channel: profile.channel,
      chaincode: profile.chaincode,
      ...(options.deadlines ? { deadlines: options.deadlines } : {}),
      ...(options.causal ? { causal: options.causal } : {}),
      onClose: () => {
        client.close();
      },
    });
  } catch (err) {
    client.close();
    throw err;
  }
}

/**
 * A typed ledger client as `who`, over {@link openLedgerConnection}.
 * @throws as {@link openLedgerConnection}.
 */
export function openLedgerClient(
  profileFile: string,
  who: LedgerUser,
  options: ProfileConnectionOptions & { readonly retry?: RetryPolicy } = {},
): LedgerClient {
  return new LedgerClient(openLedgerConnection(profileFile, who, options), options.retry ?? DEFAULT_RETRY);
}

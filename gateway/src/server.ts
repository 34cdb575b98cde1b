import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { CausalGroup, loadConnectionProfile, peerGrpcClient } from '@threadseal/ledger-client';
import { isThreadsealError, ThreadsealError } from '@threadseal/ledger-model';
import { createHash, X509Certificate } from 'node:crypto';
import { CallerTokens } from './auth/caller-tokens';
import { watchRevocationList } from './auth/crl-watch';
import { RevocationList } from './auth/revocation-list';
import { tlsCaller } from './auth/tls-caller';
import type { GatewayConfig } from './config';
import { createApp, type GatewayApp, type LogEntry } from './http/app';
import { CustodialKeys } from './ledger/custodial-keys';
import { FabricGatewayLedger } from './ledger/fabric-gateway-ledger';

/** A gateway serving HTTPS with mutual TLS. */
export interface RunningGateway {
  /** `https://<host>:<port>` */
  readonly url: string;
  readonly port: number;
  readonly mspId: string;
  readonly gateway: GatewayApp;
  /** Stops listening, ends every connection and closes the gRPC client. */
  close(): Promise<void>;
}

/** The TLS material and address of a gateway's HTTPS server. */
export interface MutualTlsListen {
  /** PEM of the server certificate and key. */
  readonly cert: string;
  readonly key: string;
  /** PEM of the CA whose client certificates are accepted, and no other. */
  readonly clientCa: string;
  /** PEM of the CA's revocation list: certificates it lists fail the handshake. */
  readonly clientCrl?: string;
  readonly host: string;
  readonly port: number;
}

/**
 * Serves `gateway` over HTTPS that asks every client for a certificate and completes the handshake only
 * for one the `clientCa` issued (requestCert, rejectUnauthorized); resolves once listening.
 */
export async function listenMutualTls(gateway: GatewayApp, options: MutualTlsListen): Promise<Server> {
  const server = createServer(
    {
      cert: options.cert,
      key: options.key,
      ca: options.clientCa,
      ...(options.clientCrl ? { crl: options.clientCrl } : {}),
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
    },
    gateway.app,
  );
  server.keepAliveTimeout = 30_000;
  // Kept-alive connections are the point (no handshake per request); TLS sessions are resumable too, so a
  // client that reconnects skips the full handshake (tickets, the Node default, stay on).
  server.headersTimeout = 20_000;
  server.requestTimeout = 120_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

/**
 * Starts the gateway of `config.org`: one gRPC client to the org's peer, the custodial keys, and an HTTPS
 * server that asks every client for a certificate and refuses any the org's CA did not issue.
 * @throws ThreadsealError / LedgerError CONNECTION_FAILED when the profile, keys or certificates cannot be used.
 */
export async function startGateway(
  config: GatewayConfig,
  options: { log?: (entry: LogEntry) => void; causal?: CausalGroup } = {},
): Promise<RunningGateway> {
  const profile = loadConnectionProfile(config.profileFile);
  const org = profile.orgs[config.org];
  if (!org) throw new ThreadsealError('USAGE', `the connection profile has no org ${config.org}`);
  const clientCa = readFileSync(config.clientCaFile ?? org.enrollmentCaCert, 'utf8');
  const clientCrlText = config.clientCrlFile ? readFileSync(config.clientCrlFile, 'utf8') : undefined;
  // The same list the TLS layer loads, parsed and checked against the CA here, and again on every request.
  let revocations =
    clientCrlText !== undefined ? RevocationList.parse(clientCrlText, clientCa) : RevocationList.empty();
  const tokens = new CallerTokens({
    mspId: org.mspId,
    ...(config.tokens?.keyFile ? { key: readFileSync(config.tokens.keyFile) } : {}),
    ...(config.tokens?.ttlSeconds !== undefined ? { ttlSeconds: config.tokens.ttlSeconds } : {}),
  });
  const custodial = await CustodialKeys.fromConfig(config.custodial, org.mspId);
  const eventsEntry = config.custodial.find((c) => c.name === config.eventsIdentity);
  const eventsIdentity = eventsEntry
    ? createHash('sha256')
        .update(
          new X509Certificate(
            readFileSync(
              'mspDir' in eventsEntry ? `${eventsEntry.mspDir}/signcerts/cert.pem` : eventsEntry.certFile,
            ),
          ).raw,
        )
        .digest('hex')
    : undefined;
  const client = peerGrpcClient(config.org, org);
  const ledger = new FabricGatewayLedger({
    client,
    mspId: org.mspId,
    channel: profile.channel,
    chaincode: profile.chaincode,
    custodial,
    causal: options.causal ?? new CausalGroup(),
    ...(eventsIdentity ? { eventsIdentity } : {}),
  });
  const gatewayOrg = { name: config.org, mspId: org.mspId, caCertificatePem: clientCa };
  const gateway = createApp({
    org: gatewayOrg,
    ledger,
    authenticate: tlsCaller(gatewayOrg, { revocations: () => revocations }),
    tokens,
    isCustodial: (caller) => custodial.identityFor(caller.fingerprint) !== undefined,
    dsiSignerFor: (caller) => custodial.identityFor(caller.fingerprint)?.dsiSigner,
    ...(config.limits ? { limits: config.limits } : {}),
    ...(config.idempotencyFile !== undefined ? { idempotencyFile: config.idempotencyFile } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
  let server: Server;
  const tls = {
    cert: readFileSync(config.serverCertFile, 'utf8'),
    key: readFileSync(config.serverKeyFile, 'utf8'),
    clientCa,
  };
  try {
    server = await listenMutualTls(gateway, {
      ...tls,
      ...(clientCrlText !== undefined ? { clientCrl: clientCrlText } : {}),
      host: config.host,
      port: config.port,
    });
  } catch (err) {
    gateway.close();
    custodial.close();
    client.close();
    throw new ThreadsealError('PORT_IN_USE', `cannot listen on ${config.host}:${config.port}`, {
      cause: err,
    });
  }
  const port = (server.address() as AddressInfo).port;
  // A newer CRL takes effect without a restart: new handshakes (the TLS context) and every request on
  // connections already open (the list the authenticator reads). One that does not parse or verify is
  // refused and the previous list stays.
  const stopWatching =
    config.clientCrlFile === undefined
      ? () => undefined
      : watchRevocationList(config.clientCrlFile, clientCa, {
          loaded: (next, text) => {
            server.setSecureContext({
              cert: tls.cert,
              key: tls.key,
              ca: clientCa,
              crl: text,
              minVersion: 'TLSv1.2',
            });
            revocations = next;
            options.log?.({
              time: new Date().toISOString(),
              level: 'info',
              event: 'crl-loaded',
              revoked: next.size,
            });
          },
          refused: (err) => {
            options.log?.({
              time: new Date().toISOString(),
              level: 'error',
              event: 'crl-refused',
              code: isThreadsealError(err) ? err.code : 'INVALID_ARGUMENT',
            });
          },
        });
  return {
    url: `https://${config.host}:${port}`,
    port,
    mspId: org.mspId,
    gateway,
    close: async () => {
      stopWatching();
      gateway.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
      ledger.close();
      custodial.close();
      client.close();
    },
  };
}

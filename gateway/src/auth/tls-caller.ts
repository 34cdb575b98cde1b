import { TLSSocket } from 'node:tls';
import type { Request } from 'express';
import { ThreadsealError } from '@threadseal/ledger-model';
import { callerOf, type Caller, type GatewayOrg } from './caller';
import type { RevocationList } from './revocation-list';

/** What else the TLS authenticator checks on every request. */
export interface TlsCallerOptions {
  /**
   * The org CA's revocation list as it is now (reloaded when its file changes): a certificate on it is
   * refused on every request, also on a connection whose handshake came before the revocation.
   */
  readonly revocations?: () => RevocationList;
}

/**
 * The authenticator of a gateway served over mutual TLS: the caller is the identity of the client
 * certificate the TLS layer verified against the org's CA (`requestCert`, `rejectUnauthorized`), checked
 * again by {@link callerOf}. Parsed once per certificate (cached by its SHA-256 fingerprint, for every
 * connection presenting it); the validity period and the revocation list are checked on every request.
 */
export function tlsCaller(org: GatewayOrg, options: TlsCallerOptions = {}): (req: Request) => Caller {
  type Known = { caller: Caller; notAfter: number; notBefore: number; serialNumber: string };
  const byConnection = new WeakMap<TLSSocket, Known>();
  // A client that reconnects presents the same certificate: its parse and checks are not repeated (the
  // result depends on the DER alone, apart from the validity period and revocation, checked every time).
  const byFingerprint = new Map<string, Known>();
  const revoked = (serialNumber: string): void => {
    if (options.revocations?.().revokes(serialNumber) === true)
      throw new ThreadsealError('UNAUTHENTICATED', `client certificate ${serialNumber} is revoked`);
  };
  return (req) => {
    const socket = req.socket;
    if (!(socket instanceof TLSSocket) || !socket.authorized) {
      throw new ThreadsealError('UNAUTHENTICATED', `a client certificate of ${org.mspId} is required`);
    }
    const now = Date.now();
    const known = byConnection.get(socket);
    if (known && known.notBefore <= now && now <= known.notAfter) {
      revoked(known.serialNumber);
      return known.caller;
    }
    const certificate = socket.getPeerCertificate(false);
    if (!Buffer.isBuffer(certificate.raw))
      throw new ThreadsealError('UNAUTHENTICATED', `a client certificate of ${org.mspId} is required`);
    revoked(certificate.serialNumber);
    let entry = byFingerprint.get(certificate.fingerprint256);
    if (!entry || !(entry.notBefore <= now && now <= entry.notAfter)) {
      entry = {
        caller: callerOf(certificate.raw, org, new Date(now)),
        notBefore: Date.parse(certificate.valid_from),
        notAfter: Date.parse(certificate.valid_to),
        serialNumber: certificate.serialNumber,
      };
      if (byFingerprint.size >= 1_000) byFingerprint.clear();
      byFingerprint.set(certificate.fingerprint256, entry);
    }
    byConnection.set(socket, entry);
    return entry.caller;
  };
}

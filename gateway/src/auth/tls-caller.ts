import { TLSSocket } from 'node:tls';
import type { Request } from 'express';
import { ThreadsealError } from '@threadseal/ledger-model';
import { callerOf, type Caller, type GatewayOrg } from './caller';

/**
 * The authenticator of a gateway served over mutual TLS: the caller is the identity of the client
 * certificate the TLS layer verified against the org's CA (`requestCert`, `rejectUnauthorized`), checked
 * again by {@link callerOf}. Parsed once per connection; the validity period is checked on every request.
 */
export function tlsCaller(org: GatewayOrg): (req: Request) => Caller {
  const byConnection = new WeakMap<TLSSocket, { caller: Caller; notAfter: number; notBefore: number }>();
  return (req) => {
    const socket = req.socket;
    if (!(socket instanceof TLSSocket) || !socket.authorized) {
      throw new ThreadsealError('UNAUTHENTICATED', `a client certificate of ${org.mspId} is required`);
    }
    const now = Date.now();
    const known = byConnection.get(socket);
    if (known && known.notBefore <= now && now <= known.notAfter) return known.caller;
    const certificate = socket.getPeerCertificate(false);
    if (!Buffer.isBuffer(certificate.raw))
      throw new ThreadsealError('UNAUTHENTICATED', `a client certificate of ${org.mspId} is required`);
    const caller = callerOf(certificate.raw, org, new Date(now));
    byConnection.set(socket, {
      caller,
      notBefore: Date.parse(certificate.valid_from),
      notAfter: Date.parse(certificate.valid_to),
    });
    return caller;
  };
}

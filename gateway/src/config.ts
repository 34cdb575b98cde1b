import { ThreadsealError } from '@threadseal/ledger-model';
import type { GatewayLimits } from './http/app';
import type { CustodialKeyConfig } from './ledger/custodial-keys';

/** Everything a gateway process needs, parsed once. */
export interface GatewayConfig {
  /** The org served, as named in the connection profile (`oem`, `manufacturer`, …). */
  readonly org: string;
  /** The network's connection profile (`<stateDir>/connection.json`): the org's peer, TLS root, MSP id. */
  readonly profileFile: string;
  /** PEM files of the gateway's own TLS server certificate and key (issued by the org's TLS CA). */
  readonly serverCertFile: string;
  readonly serverKeyFile: string;
  /**
   * PEM of the CA whose certificates identify callers; by default the org's enrollment CA root from the
   * profile (callers present their enrollment certificates; the org's TLS CA is a different root).
   */
  readonly clientCaFile?: string;
  /**
   * PEM of the org CA's certificate revocation list (`fabric-ca-client revoke --gencrl`): a revoked
   * caller's certificate then fails the TLS handshake and every request. The file is watched: a newer
   * list that verifies is taken without a restart.
   */
  readonly clientCrlFile?: string;
  /**
   * The service identities whose keys the gateway holds (custodial signing): `{name, mspDir}` for a software
   * key, `{name, certFile, pkcs11: {library, token, pinEnv, keyId}}` for a key in a PKCS#11
   * token (the PIN comes from the environment variable `pinEnv`, never from this file).
   */
  readonly custodial: readonly CustodialKeyConfig[];
  /**
   * Bearer tokens (`POST /v1/tokens`): their lifetime (seconds, default 300) and, to share them between
   * instances or across a restart, a file holding the HMAC key (at least 32 bytes); a random key otherwise.
   */
  readonly tokens?: { readonly ttlSeconds?: number; readonly keyFile?: string };
  /**
   * The SQLite file of the Idempotency-Key records (created when missing): a submit repeated with the same
   * key after a restart gets the first response and is not sent again. Without it the records live in the
   * process only.
   */
  readonly idempotencyFile?: string;
  /** Name of the custodial identity that reads chaincode events for the dashboard's live updates. */
  readonly eventsIdentity?: string;
  readonly host: string;
  /** 0: any free port (read it back from the running gateway). */
  readonly port: number;
  readonly limits?: Partial<GatewayLimits>;
}

/**
 * Checks a gateway configuration, naming every missing or malformed setting at once.
 * @throws ThreadsealError USAGE listing the problems.
 */
export function gatewayConfig(input: Partial<GatewayConfig>): GatewayConfig {
  const problems: string[] = [];
  const text = (key: keyof GatewayConfig) => {
    const v = input[key];
    if (typeof v !== 'string' || v.length === 0) problems.push(`${key} is required`);
  };
  text('org');
  text('profileFile');
  text('serverCertFile');
  text('serverKeyFile');
  if (
    input.idempotencyFile !== undefined &&
    (typeof input.idempotencyFile !== 'string' || input.idempotencyFile.length === 0)
  )
    problems.push('idempotencyFile must be a file path');
  const port = input.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    problems.push(`port must be 0..65535, got ${port}`);
  const custodial = input.custodial ?? [];
  custodial.forEach((entry, i) => {
    const at = `custodial[${i}]`;
    const e = entry as unknown as Record<string, unknown>;
    if (typeof e['name'] !== 'string' || e['name'].length === 0) problems.push(`${at}.name is required`);
    if (typeof e['mspDir'] === 'string') return;
    const p = e['pkcs11'] as Record<string, unknown> | null | undefined;
    if (typeof p !== 'object' || p === null) {
      problems.push(`${at}: expected mspDir (a software key) or pkcs11 (a token key)`);
      return;
    }
    if (typeof e['certFile'] !== 'string') problems.push(`${at}.certFile is required with pkcs11`);
    for (const key of ['library', 'token', 'pinEnv', 'keyId'])
      if (typeof p[key] !== 'string' || p[key].length === 0) problems.push(`${at}.pkcs11.${key} is required`);
    if ('pin' in p)
      problems.push(`${at}.pkcs11.pin: a PIN is never written here; name its environment variable in pinEnv`);
  });
  const names = custodial.map((c) => c.name);
  if (input.eventsIdentity !== undefined && !names.includes(input.eventsIdentity))
    problems.push(
      `eventsIdentity ${input.eventsIdentity} is not one of the custodial identities (${names.join(', ') || 'none'})`,
    );
  const ttl = input.tokens?.ttlSeconds;
  if (ttl !== undefined && (!Number.isInteger(ttl) || ttl < 1 || ttl > 3600))
    problems.push(`tokens.ttlSeconds must be 1..3600, got ${ttl}`);
  if (problems.length > 0)
    throw new ThreadsealError('USAGE', `gateway configuration: ${problems.join('; ')}`);
  return Object.freeze({ ...(input as GatewayConfig), custodial, host: input.host ?? '127.0.0.1', port });
}

import { ThreadsealError } from '@threadseal/ledger-model';
import type { GatewayLimits } from './http/app';
import type { CustodialMspDir } from './ledger/custodial-keys';

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
   * caller's certificate then fails the TLS handshake. Read at start; restart the gateway to load a new one.
   */
  readonly clientCrlFile?: string;
  /** The service identities whose keys the gateway holds (custodial signing). */
  readonly custodial: readonly CustodialMspDir[];
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
  const port = input.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    problems.push(`port must be 0..65535, got ${port}`);
  const custodial = input.custodial ?? [];
  const names = custodial.map((c) => c.name);
  if (input.eventsIdentity !== undefined && !names.includes(input.eventsIdentity))
    problems.push(
      `eventsIdentity ${input.eventsIdentity} is not one of the custodial identities (${names.join(', ') || 'none'})`,
    );
  if (problems.length > 0)
    throw new ThreadsealError('USAGE', `gateway configuration: ${problems.join('; ')}`);
  return Object.freeze({ ...(input as GatewayConfig), custodial, host: input.host ?? '127.0.0.1', port });
}

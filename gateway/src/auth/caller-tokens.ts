import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { ThreadsealError } from '@threadseal/ledger-model';
import type { Caller } from './caller';

/*
 * Short-lived bearer tokens bound to an enrolled identity. A token is
 *   ts1.<base64url(claims JSON)>.<base64url(HMAC-SHA256(key, "ts1." + claims part))>
 * signed by the gateway with a key only it holds. It names the certificate it was issued to (SHA-256 of the
 * DER, like RFC 8705's `x5t#S256`), the MSP and the role, and it is accepted only on a connection that
 * presents that same certificate: a token copied out of a log or a proxy is worth nothing without the
 * certificate's private key. See docs/gateway.md, "Short-lived tokens".
 */

/** What a token says, as signed. */
export interface TokenClaims {
  /** Format version. */
  readonly v: 1;
  /** MSP id of the gateway that issued it (the caller's org). */
  readonly iss: string;
  /** The enrollment id (certificate CN). */
  readonly sub: string;
  /** SHA-256 of the certificate's DER, lower-case hex: the only certificate the token is good with. */
  readonly cnf: string;
  readonly role: string | null;
  /** Issued at and expires at, seconds since the epoch. */
  readonly iat: number;
  readonly exp: number;
  /** Unique id of this token (for logs). */
  readonly jti: string;
}

/** An issued token and when it stops being accepted. */
export interface IssuedToken {
  readonly token: string;
  readonly tokenType: 'Bearer';
  /** ISO 8601. */
  readonly expiresAt: string;
  readonly expiresIn: number;
}

/** How tokens are made. */
export interface CallerTokensOptions {
  /** MSP id of the gateway's org. */
  readonly mspId: string;
  /** The HMAC key, at least 32 bytes; a fresh random one when left out (tokens then die with the process). */
  readonly key?: Buffer;
  /** Lifetime of a token, seconds (default 300, at most 3600). */
  readonly ttlSeconds?: number;
  readonly now?: () => number;
}

const PREFIX = 'ts1.';
const TOKEN = /^ts1\.([A-Za-z0-9_-]{16,2048})\.([A-Za-z0-9_-]{43})$/;
/** Tolerated clock difference for `iat` in the future (the same process signs, so this is only rounding). */
const SKEW_SECONDS = 5;

function unauthenticated(detail: string): never {
  throw new ThreadsealError('UNAUTHENTICATED', `bearer token refused: ${detail}`);
}

function isClaims(value: unknown): value is TokenClaims {
  if (typeof value !== 'object' || value === null) return false;
  const c = value as Record<string, unknown>;
  return (
    c['v'] === 1 &&
    typeof c['iss'] === 'string' &&
    typeof c['sub'] === 'string' &&
    typeof c['cnf'] === 'string' &&
    /^[0-9a-f]{64}$/.test(c['cnf']) &&
    (c['role'] === null || typeof c['role'] === 'string') &&
    Number.isSafeInteger(c['iat']) &&
    Number.isSafeInteger(c['exp']) &&
    typeof c['jti'] === 'string'
  );
}

/**
 * Issues and checks the gateway's bearer tokens. `issue` is given the caller the TLS layer authenticated;
 * `verify` is given the token and the caller of the connection it arrived on.
 */
export class CallerTokens {
  readonly #key: Buffer;
  readonly #mspId: string;
  readonly #ttlSeconds: number;
  readonly #now: () => number;

  /** @throws ThreadsealError USAGE when the key is shorter than 32 bytes or the lifetime is out of range. */
  constructor(options: CallerTokensOptions) {
    const key = options.key ?? randomBytes(32);
    if (key.length < 32)
      throw new ThreadsealError('USAGE', `the token key must have at least 32 bytes, got ${key.length}`);
    const ttl = options.ttlSeconds ?? 300;
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > 3600)
      throw new ThreadsealError('USAGE', `the token lifetime must be 1..3600 seconds, got ${ttl}`);
    this.#key = Buffer.from(key);
    this.#mspId = options.mspId;
    this.#ttlSeconds = ttl;
    this.#now = options.now ?? Date.now;
  }

  #mac(payload: string): Buffer {
    return createHmac('sha256', this.#key).update(PREFIX).update(payload).digest();
  }

  /** A token for `caller`, valid for the configured lifetime and only with the caller's certificate. */
  issue(caller: Caller): IssuedToken {
    const iat = Math.floor(this.#now() / 1000);
    const claims: TokenClaims = {
      v: 1,
      iss: this.#mspId,
      sub: caller.name,
      cnf: caller.fingerprint,
      role: caller.role,
      iat,
      exp: iat + this.#ttlSeconds,
      jti: randomUUID(),
    };
    const payload = Buffer.from(JSON.stringify(claims), 'utf8').toString('base64url');
    return {
      token: `${PREFIX}${payload}.${this.#mac(payload).toString('base64url')}`,
      tokenType: 'Bearer',
      expiresAt: new Date(claims.exp * 1000).toISOString(),
      expiresIn: this.#ttlSeconds,
    };
  }

  /**
   * The claims of `token` when it is one this gateway signed, for this org, unexpired, and bound to the
   * certificate `connection` presented; checked in that order.
   * @throws ThreadsealError UNAUTHENTICATED for a malformed, tampered, expired or unbound token;
   * FORBIDDEN for a token of another org.
   */
  verify(token: string, connection: Caller): TokenClaims {
    const match = TOKEN.exec(token);
    if (!match) unauthenticated('not a threadseal gateway token');
    const payload = match[1] as string;
    const mac = Buffer.from(match[2] as string, 'base64url');
    const expected = this.#mac(payload);
    if (mac.length !== expected.length || !timingSafeEqual(mac, expected))
      unauthenticated('its signature does not verify (altered, or issued by another gateway)');
    let claims: unknown;
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      unauthenticated('its claims are not JSON');
    }
    if (!isClaims(claims)) unauthenticated('its claims are not of the expected shape');
    if (claims.iss !== this.#mspId || connection.mspId !== this.#mspId)
      throw new ThreadsealError(
        'FORBIDDEN',
        `bearer token of ${claims.iss} refused: this gateway serves ${this.#mspId}`,
      );
    const now = Math.floor(this.#now() / 1000);
    if (claims.exp <= now) unauthenticated(`it expired at ${new Date(claims.exp * 1000).toISOString()}`);
    if (claims.iat > now + SKEW_SECONDS) unauthenticated('it is issued in the future');
    if (claims.cnf !== connection.fingerprint)
      unauthenticated(`it is bound to another certificate than the one this connection presented`);
    if (claims.sub !== connection.name || claims.role !== connection.role)
      unauthenticated('its identity differs from the certificate it is bound to');
    return claims;
  }
}

/** The token of an `Authorization: Bearer …` header, undefined without one. @throws ThreadsealError UNAUTHENTICATED for another scheme. */
export function bearerOf(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  const match = /^Bearer +([^ ]+) *$/i.exec(authorization);
  if (!match) unauthenticated('expected "Authorization: Bearer <token>"');
  return match[1];
}

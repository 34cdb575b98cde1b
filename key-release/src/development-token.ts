import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Pkcs11Token } from '@threadseal/dsi-container';
import { ThreadsealError } from '@threadseal/ledger-model';

/** Where Debian's softhsm2 package puts its PKCS#11 module. */
export const SOFTHSM_LIBRARY = '/usr/lib/softhsm/libsofthsm2.so';

/** A throw-away SoftHSM2 token with one non-extractable P-256 key pair, and how to get rid of it. */
export interface DevelopmentToken {
  readonly token: Pkcs11Token;
  readonly keyLabel: string;
  /** The token's private folder (mode 700): a place for the service's other files too. */
  readonly dir: string;
  /** Logs out, closes the module and deletes the token's files. */
  close(): void;
}

/**
 * A SoftHSM2 token for development and tests, in a new folder under `parentDir`: the key-release service's
 * unwrap key in PKCS#11 without hardware. The user PIN is random and lives only in this process; the token
 * points `SOFTHSM2_CONF` at its own config (SoftHSM reads it once per process, so one token per process).
 * @throws ThreadsealError TOKEN_ERROR when SoftHSM2 is not installed.
 */
export function openDevelopmentToken(parentDir: string, keyLabel = 'key-release'): DevelopmentToken {
  if (!existsSync(SOFTHSM_LIBRARY))
    throw new ThreadsealError(
      'TOKEN_ERROR',
      `SoftHSM2 is not installed (${SOFTHSM_LIBRARY} is absent): apt-get install softhsm2`,
    );
  const dir = mkdtempSync(join(parentDir, 'softhsm-'));
  const conf = join(dir, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${dir}\nobjectstore.backend = file\nlog.level = ERROR\n`, {
    mode: 0o600,
  });
  process.env['SOFTHSM2_CONF'] = conf;
  const label = `threadseal-${randomBytes(4).toString('hex')}`;
  const pin = randomBytes(12).toString('hex');
  // The PINs reach softhsm2-util through its stdin-less flags only here, in a development token that is
  // deleted with this folder; a production token is initialised by its officer, never by this code.
  execFileSync(
    'softhsm2-util',
    ['--init-token', '--free', '--label', label, '--so-pin', randomBytes(12).toString('hex'), '--pin', pin],
    { stdio: 'ignore' },
  );
  const token = Pkcs11Token.open({ library: SOFTHSM_LIBRARY, tokenLabel: label, pin });
  // The unwrap key derives (ECDH) and never signs.
  token.generateKeyPair(keyLabel, 'derive');
  return {
    token,
    keyLabel,
    dir,
    close: () => {
      token.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** releaseKeys(): seal a DSI's content keys to one machine for one build (the key-release service's step). */
import type { KeyObject, X509Certificate } from 'node:crypto';
import { RELEASE_STANZA_TYPE, type ReleaseStanza } from '@threadseal/ledger-model';
import { AEAD, sealBase } from '../crypto/hpke';
import { keyId } from '../crypto/p256';
import { atBoundary } from '../errors';
import { recipientPublicKey } from '../keys/software';
import type { RecipientKey } from '../keys/types';
import { parseContainer } from './layout';
import { releaseContext, unwrapFileKeys } from './open';
import { openSource, type ContainerSource } from './source';
import { verifyParsed, type VerifyOptions } from './verify';

/**
 * Verifies the DSI (every check of `verify`, with the caller's signer pinning), unwraps its content keys with
 * `key` — the key-release service's own recipient key, possibly in a PKCS#11 token — checks them against the
 * signed commitments, and seals them to `machine` (the machine's registered decryption key) bound to the DSI
 * id and `buildId`. The keys are zeroed before it returns; only the sealed stanza leaves.
 * @throws DsiError every `open` code before unwrapping; UNSUPPORTED_KEY for a machine key that is not P-256
 */
export async function releaseKeys(
  source: ContainerSource,
  key: RecipientKey,
  machine: string | Buffer | KeyObject | X509Certificate,
  buildId: string,
  options: VerifyOptions,
): Promise<ReleaseStanza> {
  return atBoundary('releaseKeys', async () => {
    const machineKey = recipientPublicKey(machine);
    const ra = await openSource(source, options.tmpDir);
    try {
      const parsed = await parseContainer(ra);
      const verified = await verifyParsed(ra, parsed, options);
      const keys = await unwrapFileKeys(parsed.header.recipients, verified.manifest, verified.dsiId, key);
      const plaintext = Buffer.concat(keys);
      try {
        const { info, aad } = releaseContext(verified.dsiId, buildId);
        const { enc, ciphertext } = sealBase(AEAD.aes256gcm, machineKey, info, aad, plaintext);
        return {
          type: RELEASE_STANZA_TYPE,
          keyId: keyId(machineKey),
          enc: enc.toString('base64'),
          wrappedKeys: ciphertext.toString('base64'),
        };
      } finally {
        plaintext.fill(0);
        for (const k of keys) k.fill(0);
      }
    } finally {
      await ra.close();
    }
  });
}

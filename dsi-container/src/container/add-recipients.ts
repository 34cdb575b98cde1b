/** addRecipients(): re-wrap the content keys of a signed DSI to more recipients (key-release service). */
import type { KeyObject, X509Certificate } from 'node:crypto';
import { Readable } from 'node:stream';
import { encodeHeader, encodePreamble } from '../format/header';
import { LIMITS, PREAMBLE_LENGTH } from '../format/limits';
import { DsiError, atBoundary } from '../errors';
import { keyId } from '../crypto/p256';
import { recipientPublicKey } from '../keys/software';
import type { RecipientKey } from '../keys/types';
import { parseContainer } from './layout';
import { unwrapFileKeys } from './open';
import { wrapKeys } from './protect';
import { openSource, type ContainerSource } from './source';
import { verifyParsed, type VerifyOptions } from './verify';

/** The re-wrapped container: same DSI id, same payload, more recipient stanzas. */
export interface RewrappedDsi {
  readonly dsiId: string;
  readonly size: number;
  /** Number of stanzas added (keys that were already recipients are skipped). */
  readonly added: number;
  readonly stream: Readable;
}

/**
 * Verifies the DSI, unwraps its content keys with `key` (which must be a recipient), and emits
 * a copy whose header carries new stanzas for `recipients`. The signed manifest, and so the DSI
 * id, are unchanged; each new stanza is bound to the DSI id and its keys match the signed
 * commitments, so a forged stanza fails at open with WRAP_MISMATCH.
 * @throws DsiError every `open` code before unwrapping
 */
export async function addRecipients(
  source: ContainerSource,
  key: RecipientKey,
  recipients: readonly (string | Buffer | KeyObject | X509Certificate)[],
  options: VerifyOptions,
): Promise<RewrappedDsi> {
  return atBoundary('addRecipients', async () => {
    const ra = await openSource(source, options.tmpDir);
    try {
      const parsed = await parseContainer(ra);
      const verified = await verifyParsed(ra, parsed, options);
      const keys = await unwrapFileKeys(parsed.header.recipients, verified.manifest, verified.dsiId, key);
      const present = new Set(parsed.header.recipients.map((r) => r.keyId));
      const fresh = recipients.map((r) => recipientPublicKey(r)).filter((pk) => !present.has(keyId(pk)));
      const stanzas = [...parsed.header.recipients, ...wrapKeys(keys, fresh, verified.dsiId)];
      if (stanzas.length > LIMITS.maxRecipients)
        throw new DsiError('INVALID_ARGUMENT', `a DSI holds at most ${LIMITS.maxRecipients} recipients`);
      const header = encodeHeader({ ...parsed.header, recipients: stanzas });
      const prefix = Buffer.concat([encodePreamble(header.length), header]);
      const payloadStart = PREAMBLE_LENGTH + parsed.headerLength;
      async function* emit(): AsyncGenerator<Buffer> {
        try {
          yield prefix;
          for (let pos = payloadStart; pos < parsed.end; pos += 1 << 20) {
            yield await ra.read(pos, Math.min(1 << 20, parsed.end - pos));
          }
        } finally {
          await ra.close();
        }
      }
      return {
        dsiId: verified.dsiId,
        size: prefix.length + parsed.end - payloadStart,
        added: fresh.length,
        stream: Readable.from(emit()),
      };
    } catch (err) {
      await ra.close();
      throw err;
    }
  });
}

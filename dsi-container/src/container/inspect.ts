/** inspect(): the public manifest and header facts, without any key and without verifying. */
import { Readable } from 'node:stream';
import { DsiError, atBoundary } from '../errors';
import { decodeHeader, decodePreamble } from '../format/header';
import { PREAMBLE_LENGTH } from '../format/limits';
import type { Manifest } from '../format/manifest';
import { dsiIdOfManifest, parseContainer, placeFiles } from './layout';
import { openSource, type ContainerSource } from './source';
import { parseDerCertificates } from '../trust/chain';

/** What anyone can read from a DSI. Nothing here is verified: call `verify` before trusting it. */
export interface DsiInspection {
  /** The ledger id: hex SHA-256 of the signed manifest bytes. */
  readonly dsiId: string;
  readonly formatVersion: number;
  readonly manifest: Manifest;
  readonly headerLength: number;
  /** Exact container size the manifest implies. */
  readonly containerSize: number;
  /** The signer certificate as included (unverified). */
  readonly signer: {
    readonly subject: string;
    readonly issuer: string;
    readonly validFrom: string;
    readonly validTo: string;
    readonly fingerprint256: string;
  };
  /** Key ids (SHA-256 of SPKI) of the recipient stanzas. */
  readonly recipients: readonly string[];
}

async function readExactly(
  iter: AsyncIterator<Uint8Array>,
  carry: Buffer[],
  length: number,
  what: string,
): Promise<Buffer> {
  let have = carry.reduce((n, b) => n + b.length, 0);
  while (have < length) {
    const next = await iter.next();
    if (next.done) throw new DsiError('TRUNCATED', `input ends after ${have} bytes, inside the ${what}`);
    const b = Buffer.from(next.value);
    carry.push(b);
    have += b.length;
  }
  const all = Buffer.concat(carry);
  carry.length = 0;
  if (all.length > length) carry.push(all.subarray(length));
  return all.subarray(0, length);
}

/**
 * Reads the public part of a DSI. For a path or bytes the whole layout is checked (exact size);
 * for a stream only the header is read.
 * @throws DsiError BAD_MAGIC | UNSUPPORTED_VERSION | HEADER_TOO_LARGE | MALFORMED_HEADER | MALFORMED_MANIFEST | LIMIT_EXCEEDED | TRUNCATED | TRAILING_DATA
 */
export async function inspect(source: ContainerSource): Promise<DsiInspection> {
  return atBoundary('inspect', async () => {
    let header;
    let headerLength: number;
    if (typeof source === 'string' || source instanceof Uint8Array) {
      const ra = await openSource(source);
      try {
        ({ header, headerLength } = await parseContainer(ra));
      } finally {
        await ra.close();
      }
    } else {
      const iter = (source instanceof Readable ? source : Readable.from(source))[
        Symbol.asyncIterator
      ]() as AsyncIterator<Uint8Array>;
      const carry: Buffer[] = [];
      try {
        const preamble = await readExactly(iter, carry, PREAMBLE_LENGTH, 'preamble').catch((err: unknown) => {
          // Let the preamble decoder name the failure precisely (BAD_MAGIC before TRUNCATED).
          decodePreamble(Buffer.concat(carry));
          throw err;
        });
        headerLength = decodePreamble(preamble);
        header = decodeHeader(await readExactly(iter, carry, headerLength, 'header'));
      } finally {
        await iter.return?.();
      }
    }
    const [leaf] = parseDerCertificates(header.certificates.slice(0, 1));
    if (!leaf) throw new DsiError('MALFORMED_HEADER', 'header has no signer certificate');
    return {
      dsiId: dsiIdOfManifest(header.manifestBytes),
      formatVersion: 1,
      manifest: header.manifest,
      headerLength,
      containerSize: placeFiles(header, PREAMBLE_LENGTH + headerLength).end,
      signer: {
        subject: leaf.subject,
        issuer: leaf.issuer,
        validFrom: leaf.validFrom,
        validTo: leaf.validTo,
        fingerprint256: leaf.fingerprint256,
      },
      recipients: header.recipients.map((r) => r.keyId),
    };
  });
}

/**
 * The DSI id registered on the ledger: hex SHA-256 of the signed manifest. Reads only the header.
 * @throws DsiError as {@link inspect}
 */
export async function dsiId(source: ContainerSource): Promise<string> {
  return atBoundary('dsiId', async () => {
    return (await inspect(source)).dsiId;
  });
}

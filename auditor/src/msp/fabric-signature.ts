// Signature verification as Fabric's BCCSP does it, without protobuf objects: what the block-decoding
// workers load (they need neither the MSP logic nor fabric-protos).
import { verify, X509Certificate, type KeyObject } from 'node:crypto';
import { WireReader } from '../validation/wire';

// The order of the P-256 group: Fabric's BCCSP refuses an ECDSA signature whose S is above n/2.
const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

function derSignatureS(signature: Uint8Array): bigint | undefined {
  // SEQUENCE { INTEGER r, INTEGER s }, short lengths only (a P-256 signature is at most 72 bytes).
  if (signature[0] !== 0x30 || signature.length < 8) return undefined;
  let offset = 2;
  if (signature[offset] !== 0x02) return undefined;
  const rLength = signature[offset + 1] ?? 0;
  offset += 2 + rLength;
  if (signature[offset] !== 0x02) return undefined;
  const sLength = signature[offset + 1] ?? 0;
  const s = signature.subarray(offset + 2, offset + 2 + sLength);
  if (s.length !== sLength || offset + 2 + sLength !== signature.length) return undefined;
  return BigInt(`0x${Buffer.from(s).toString('hex') || '0'}`);
}

/**
 * Verifies an ECDSA-with-SHA-256 signature (DER) the way Fabric's BCCSP does: a valid signature over
 * `data` by `key` whose S lies in the lower half of the group order.
 */
export function verifyFabricSignature(key: KeyObject, data: Uint8Array, signature: Uint8Array): boolean {
  const s = derSignatureS(signature);
  if (s === undefined || s > P256_N / 2n) return false;
  try {
    return verify('sha256', data, { key, dsaEncoding: 'der' }, signature);
  } catch {
    return false;
  }
}

/**
 * The public key of the certificate a serialized identity carries, read the way {@link MspManager} reads
 * it; undefined when the bytes are not a SerializedIdentity holding an X.509 certificate. Says nothing about
 * whether the identity is valid.
 */
export function publicKeyOfIdentity(serialized: Uint8Array): KeyObject | undefined {
  try {
    // msp.SerializedIdentity { mspid = 1, id_bytes = 2 }
    let idBytes: Uint8Array = new Uint8Array(0);
    const r = new WireReader(serialized);
    while (r.next()) {
      if (r.field === 2) idBytes = r.bytes();
      else r.skip();
    }
    return new X509Certificate(Buffer.from(idBytes)).publicKey;
  } catch {
    return undefined;
  }
}

/** ECDSA P-256 signature encodings: raw r‖s ↔ DER, and low-S normalisation (Fabric rejects high-S). */

/** Order n of the P-256 group. */
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const HALF_N = N >> 1n;

const toBig = (b: Buffer): bigint => (b.length === 0 ? 0n : BigInt(`0x${b.toString('hex')}`));
const toBytes = (n: bigint): Buffer => Buffer.from(n.toString(16).padStart(64, '0'), 'hex');

function derInt(n: bigint): Buffer {
  let b = toBytes(n);
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  b = b.subarray(i);
  if ((b[0] ?? 0) & 0x80) b = Buffer.concat([Buffer.of(0), b]);
  return Buffer.concat([Buffer.of(0x02, b.length), b]);
}

/** Strict DER parse of `SEQUENCE { INTEGER r, INTEGER s }`; undefined if not minimal DER. */
export function parseDerSignature(der: Buffer): { r: bigint; s: bigint } | undefined {
  if (der.length < 8 || der.length > 72 || der[0] !== 0x30 || der[1] !== der.length - 2) return undefined;
  const ints: bigint[] = [];
  let p = 2;
  for (let k = 0; k < 2; k++) {
    if (der[p] !== 0x02) return undefined;
    const len = der[p + 1] ?? 0;
    const body = der.subarray(p + 2, p + 2 + len);
    if (len === 0 || len > 33 || body.length !== len) return undefined;
    if ((body[0] ?? 0) & 0x80) return undefined; // negative
    if (len > 1 && body[0] === 0 && !((body[1] ?? 0) & 0x80)) return undefined; // non-minimal
    ints.push(toBig(body));
    p += 2 + len;
  }
  if (p !== der.length) return undefined;
  const [r, s] = ints as [bigint, bigint];
  if (r <= 0n || r >= N || s <= 0n || s >= N) return undefined;
  return { r, s };
}

/** Encodes (r, s) as DER with s replaced by n − s when s > n/2. */
export function lowSDer(r: bigint, s: bigint): Buffer {
  const low = s > HALF_N ? N - s : s;
  const body = Buffer.concat([derInt(r), derInt(low)]);
  return Buffer.concat([Buffer.of(0x30, body.length), body]);
}

/** Normalises a DER signature to low-S DER. @throws Error if `der` is not a valid signature encoding. */
export function normaliseDer(der: Buffer): Buffer {
  const sig = parseDerSignature(der);
  if (!sig) throw new Error('not a DER ECDSA signature');
  return lowSDer(sig.r, sig.s);
}

/** Converts a PKCS#11 raw signature (r‖s, 64 bytes) to low-S DER. */
export function rawToLowSDer(raw: Buffer): Buffer {
  if (raw.length !== 64) throw new Error(`raw ECDSA signature must be 64 bytes, found ${raw.length}`);
  return lowSDer(toBig(raw.subarray(0, 32)), toBig(raw.subarray(32)));
}

/** Whether the DER signature is strictly encoded and has s ≤ n/2. */
export function isLowSDer(der: Buffer): boolean {
  const sig = parseDerSignature(der);
  return sig !== undefined && sig.s <= HALF_N;
}

/**
 * The bytes a DSI's signer signs, shared by the container library (which signs and verifies containers) and
 * the rules (which verify a registration on the ledger): DSSE v1 pre-authentication encoding
 * (https://github.com/secure-systems-lab/dsse, protocol.md) over the signed manifest.
 */

/** The DSSE payload type of a DSI's signed manifest. */
export const DSI_MANIFEST_PAYLOAD_TYPE = 'application/vnd.threadseal.dsi-manifest+json';

/** PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, lengths in ASCII decimal. */
export function dssePae(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `),
    type,
    Buffer.from(` ${payload.length} `),
    payload,
  ]);
}

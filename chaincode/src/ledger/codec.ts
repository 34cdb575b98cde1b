import { canonicalJson, LedgerError } from '@threadseal/ledger-model';

/** Encodes a state value, event payload or response as canonical JSON bytes; the only encoder of the chaincode. */
export function encode(value: unknown): Uint8Array {
  return Buffer.from(canonicalJson(value), 'utf8');
}

/** Encodes a transaction response as canonical JSON text. */
export function encodeText(value: unknown): string {
  return canonicalJson(value);
}

/**
 * Decodes state written by {@link encode}. State is only written by this chaincode, so its shape is trusted;
 * bytes that are not JSON mean corrupt state.
 * @throws LedgerError CORRUPT_STATE naming the key.
 */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the record type of the key it read.
export function decode<T>(bytes: Uint8Array, key: string): T {
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8')) as T;
  } catch (cause) {
    throw new LedgerError(
      'CORRUPT_STATE',
      `value of ${printableKey(key)} is not JSON: ${(cause as Error).message}`,
    );
  }
}

/** A composite key with its U+0000 separators shown as `~`, for messages. */
export function printableKey(key: string): string {
  return key.replace(/\u0000/g, '~').replace(/^~|~$/g, '');
}

/**
 * A map keyed by byte strings (serialized identities, ~1 KB each, looked up several times per
 * transaction): bucketed by length and the last 32 bytes (a certificate ends with its signature), each
 * hit confirmed by comparing all the bytes, so it is exact without building a 1 KB string per lookup.
 */
export class BytesMap<V> {
  readonly #buckets = new Map<string, { readonly bytes: Buffer; readonly value: V }[]>();

  static #bucket(bytes: Uint8Array): string {
    const tail = bytes.subarray(Math.max(0, bytes.length - 32));
    return `${bytes.length}:${Buffer.from(tail.buffer, tail.byteOffset, tail.byteLength).toString('latin1')}`;
  }

  public get(bytes: Uint8Array): V | undefined {
    const bucket = this.#buckets.get(BytesMap.#bucket(bytes));
    if (!bucket) return undefined;
    const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (const entry of bucket) if (entry.bytes.equals(view)) return entry.value;
    return undefined;
  }

  public set(bytes: Uint8Array, value: V): void {
    const key = BytesMap.#bucket(bytes);
    const bucket = this.#buckets.get(key) ?? [];
    const copy = Buffer.from(bytes);
    const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const at = bucket.findIndex((e) => e.bytes.equals(view));
    if (at >= 0) bucket[at] = { bytes: copy, value };
    else bucket.push({ bytes: copy, value });
    this.#buckets.set(key, bucket);
  }
}

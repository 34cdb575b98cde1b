/** A version in Fabric's sense: the block and the transaction index that last wrote a key. */
export interface Height {
  readonly block: bigint;
  readonly tx: number;
}

/** A key's value as the replay rebuilt it. */
export interface VersionedValue {
  /** The value (public state) or the value hash (private data hashes). */
  readonly value: Uint8Array;
  readonly version: Height;
  /** The key's metadata entries (VALIDATION_PARAMETER: a key-level endorsement policy). */
  readonly metadata: ReadonlyMap<string, Uint8Array> | undefined;
}

/** The metadata entry that holds a key-level endorsement policy (a SignaturePolicyEnvelope). */
export const VALIDATION_PARAMETER = 'VALIDATION_PARAMETER';

/** One space of keys: a public namespace, or a collection's hashed keys (`ns`, `coll`). */
export function spaceOf(namespace: string, collection = ''): string {
  return collection === '' ? namespace : `${namespace}\u0000${collection}`;
}

function utf8Compare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Strings in UTF-8 byte order (Fabric's key order), each encoded once rather than once per comparison. */
function utf8Sorted(strings: Iterable<string>): string[] {
  return [...strings]
    .map((s): [Buffer, string] => [Buffer.from(s, 'utf8'), s])
    .sort((a, b) => Buffer.compare(a[0], b[0]))
    .map((e) => e[1]);
}

/**
 * The world state the auditor rebuilds from the write sets of the transactions it judged valid: public
 * keys per namespace and the hashed keys of private data collections (keyed by the hex of the key hash).
 */
export class WorldState {
  readonly #spaces = new Map<string, Map<string, VersionedValue>>();

  public get(space: string, key: string): VersionedValue | undefined {
    return this.#spaces.get(space)?.get(key);
  }

  public put(space: string, key: string, value: VersionedValue): void {
    let map = this.#spaces.get(space);
    if (!map) {
      map = new Map();
      this.#spaces.set(space, map);
    }
    map.set(key, value);
  }

  public delete(space: string, key: string): void {
    this.#spaces.get(space)?.delete(key);
  }

  /** Keys of `space` in [start, end) in Fabric's byte order (`end` '' = no bound; `includeEnd` for a non-exhausted range). */
  public range(space: string, start: string, end: string, includeEnd: boolean): [string, VersionedValue][] {
    const map = this.#spaces.get(space);
    if (!map) return [];
    const out: [string, VersionedValue][] = [];
    for (const entry of map) {
      const [key] = entry;
      if (utf8Compare(key, start) < 0) continue;
      if (end !== '') {
        const c = utf8Compare(key, end);
        if (c > 0 || (c === 0 && !includeEnd)) continue;
      }
      out.push(entry);
    }
    return out.sort((a, b) => utf8Compare(a[0], b[0]));
  }

  /** Every space and key, sorted: the form two states are compared in. */
  public entries(): [string, string, VersionedValue][] {
    const out: [string, string, VersionedValue][] = [];
    for (const space of utf8Sorted(this.#spaces.keys())) {
      const map = this.#spaces.get(space);
      if (!map) continue;
      for (const key of utf8Sorted(map.keys())) {
        const v = map.get(key);
        if (v) out.push([space, key, v]);
      }
    }
    return out;
  }

  public get size(): number {
    let n = 0;
    for (const map of this.#spaces.values()) n += map.size;
    return n;
  }
}

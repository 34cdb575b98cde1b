/** A caller's bucket: tokens left and when it was last filled. */
interface Bucket {
  tokens: number;
  at: number;
}

/** What `take` decided. */
export type Admission =
  { readonly admitted: true } | { readonly admitted: false; readonly retryAfterSeconds: number };

/**
 * One token bucket per caller (by certificate fingerprint): `ratePerSecond` requests a second on average,
 * bursts up to `burst`. A caller past its rate is refused on its own (429) before it takes a place among the
 * gateway's requests in flight, so one noisy MES cannot starve the org's other callers. Bounded: when more
 * than `maxCallers` buckets exist, the full ones (callers idle long enough to be back at `burst`) are dropped.
 */
export class CallerBuckets {
  readonly #buckets = new Map<string, Bucket>();
  readonly #rate: number;
  readonly #burst: number;
  readonly #maxCallers: number;
  readonly #now: () => number;

  constructor(options: { ratePerSecond: number; burst: number; maxCallers?: number; now?: () => number }) {
    this.#rate = options.ratePerSecond;
    this.#burst = Math.max(1, options.burst);
    this.#maxCallers = options.maxCallers ?? 10_000;
    this.#now = options.now ?? (() => performance.now());
  }

  /** Takes one token of `caller`'s bucket, or says how long until one is there. */
  take(caller: string): Admission {
    const now = this.#now();
    let bucket = this.#buckets.get(caller);
    if (!bucket) {
      if (this.#buckets.size >= this.#maxCallers) this.#sweep(now);
      bucket = { tokens: this.#burst, at: now };
      this.#buckets.set(caller, bucket);
    } else {
      bucket.tokens = Math.min(this.#burst, bucket.tokens + ((now - bucket.at) / 1000) * this.#rate);
      bucket.at = now;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { admitted: true };
    }
    return { admitted: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / this.#rate)) };
  }

  #sweep(now: number): void {
    for (const [caller, bucket] of this.#buckets) {
      if (bucket.tokens + ((now - bucket.at) / 1000) * this.#rate >= this.#burst)
        this.#buckets.delete(caller);
    }
  }
}

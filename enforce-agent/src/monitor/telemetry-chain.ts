import { createHash } from 'node:crypto';
import { canonicalJson } from '@threadseal/ledger-model';
import type { TelemetrySample } from '../controllers/controller.js';

/** The domain tag of the chain's first link, so a digest of one job's telemetry names its job. */
const GENESIS_TAG = 'threadseal/telemetry-chain/v1';

/**
 * A SHA-256 hash chain over a job's telemetry: `h0 = SHA-256(tag ‖ 0x00 ‖ jobId)`,
 * `hₙ = SHA-256(hₙ₋₁ ‖ canonicalJson(sampleₙ))`. Its final digest is what CompleteBuild records; anyone
 * holding the samples recomputes it with {@link telemetryDigest}.
 */
export class TelemetryChain {
  #head: Buffer;
  #length = 0;

  constructor(jobId: string) {
    this.#head = createHash('sha256')
      .update(GENESIS_TAG)
      .update(Buffer.from([0]))
      .update(jobId)
      .digest();
  }

  /** Adds one sample; returns the new head, hex. */
  append(sample: TelemetrySample): string {
    this.#head = createHash('sha256').update(this.#head).update(canonicalJson(sample)).digest();
    this.#length++;
    return this.digest;
  }

  /** The head of the chain, hex (the genesis link's while no sample was added). */
  get digest(): string {
    return this.#head.toString('hex');
  }

  /** How many samples are chained. */
  get length(): number {
    return this.#length;
  }
}

/** The chain digest of a whole recorded telemetry, as {@link TelemetryChain} computes it. */
export function telemetryDigest(jobId: string, samples: Iterable<TelemetrySample>): string {
  const chain = new TelemetryChain(jobId);
  for (const s of samples) chain.append(s);
  return chain.digest;
}

import { createHash } from 'node:crypto';
import { ThreadsealError } from '@threadseal/ledger-model';
import { availableParallelism } from 'node:os';
import type { DecodedBlock } from '../block/decoded-block';
import type { RawBlock } from '../block/raw-block';
import { Auditor, printable, type AuditedTransaction, type AuditMode } from '../replay/auditor';
import { BlockDecoderPool } from '../verify/block-decoder';
import { NOTICE_KINDS, type Anomaly } from '../replay/anomaly';
import type { BlockSource } from '../source/block-sources';

/** What an audit of a whole chain found: counts, anomalies and a digest of the rebuilt world state. */
export interface AuditReport {
  readonly blocks: number;
  readonly transactions: number;
  readonly signaturesVerified: number;
  /** Recomputed validation codes and how often each occurred. */
  readonly byRecomputedCode: Readonly<Record<string, number>>;
  /** INVALID transactions (recomputed) per endorsing org, by code: a rogue peer shows up here. */
  readonly invalidByEndorsingOrg: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** Failures: anything that is not a notice. */
  readonly failures: readonly Anomaly[];
  /** Notices: configuration changes. */
  readonly notices: readonly Anomaly[];
  /** Keys in the rebuilt world state (public and private-data hashes). */
  readonly stateKeys: number;
  /** SHA-256 over every rebuilt key, version and value, in key order: equal states give equal digests. */
  readonly stateDigest: string;
  readonly elapsedMs: number;
}

/** Options of {@link auditChain}. */
export interface AuditChainOptions {
  readonly genesisHash: Uint8Array;
  readonly mode?: AuditMode;
  readonly onTransaction?: (tx: AuditedTransaction) => void;
  /** Called after each block with the number of blocks done (for a progress display). */
  readonly onBlock?: (blocksDone: number, transactionsDone: number) => void;
  /** Stop after this block (inclusive). */
  readonly toBlock?: bigint;
  /**
   * Worker threads that decode blocks and verify their signatures ahead of the ordered replay (default:
   * one per core; 0: all on the calling thread, which also decodes when it would otherwise wait). The
   * verdicts are the same either way.
   */
  readonly workers?: number;
}

// Envelopes (or blocks) per batch, batches a worker holds at once, and batches read ahead beyond those:
// enough to keep every thread busy, few enough to bound the memory held ahead.
const BATCH_ENVELOPES = 48;
const BATCH_BLOCKS = 32;
const BATCHES_PER_WORKER = 2;
const SPARE_BATCHES = 4;

interface Batch {
  readonly blocks: readonly RawBlock[];
  /** Decoded on a worker: settles with the decoded blocks (undefined if the worker failed). */
  sent?: Promise<void>;
  done: boolean;
  decoded?: readonly DecodedBlock[] | undefined;
}

/**
 * Feeds blocks to an auditor in order, decoded ahead (hashes, envelopes, read-write sets, signatures
 * verified) on worker threads and, when it would otherwise wait, on the calling thread too: each block is
 * replayed in order once its batch is decoded, so the calling thread does the sequential part
 * (identities against the configuration in force, policies, MVCC, state, verdicts) and whatever decoding
 * the workers leave.
 */
class DecodingPipeline {
  readonly #auditor: Auditor;
  readonly #decoder: BlockDecoderPool;
  readonly #queueLimit: number;
  readonly #onBlock: ((blocksDone: number, transactionsDone: number) => void) | undefined;
  readonly #queue: Batch[] = [];
  #blocks: RawBlock[] = [];
  #envelopes = 0;

  public constructor(
    auditor: Auditor,
    decoder: BlockDecoderPool,
    workers: number,
    onBlock: ((blocksDone: number, transactionsDone: number) => void) | undefined,
  ) {
    this.#auditor = auditor;
    this.#decoder = decoder;
    this.#queueLimit = workers * BATCHES_PER_WORKER + SPARE_BATCHES;
    this.#onBlock = onBlock;
  }

  public async push(block: RawBlock): Promise<void> {
    this.#blocks.push(block);
    this.#envelopes += block.data.length;
    if (this.#envelopes >= BATCH_ENVELOPES || this.#blocks.length >= BATCH_BLOCKS) this.#cut();
    while (this.#queue.length > this.#queueLimit) await this.#replayOldest();
  }

  /** Replays every block pushed so far. */
  public async drain(): Promise<void> {
    this.#cut();
    while (this.#queue.length > 0) await this.#replayOldest();
  }

  #cut(): void {
    if (this.#blocks.length === 0) return;
    this.#queue.push({ blocks: this.#blocks, done: false });
    this.#blocks = [];
    this.#envelopes = 0;
    this.#dispatch();
  }

  /** Hands the oldest batches nobody decodes yet to the workers that have room. */
  #dispatch(): void {
    for (const batch of this.#queue) {
      if (!this.#decoder.hasRoom(BATCHES_PER_WORKER)) return;
      if (batch.sent || batch.done) continue;
      batch.sent = this.#decoder.decode(batch.blocks).then((decoded) => {
        batch.decoded = decoded;
        batch.done = true;
      });
    }
  }

  #decodeHere(batch: Batch): void {
    batch.decoded = batch.blocks.map((block) => this.#auditor.prepareBlock(block));
    batch.done = true;
  }

  async #replayOldest(): Promise<void> {
    const oldest = this.#queue[0];
    if (!oldest) return;
    for (;;) {
      this.#dispatch();
      if (oldest.done) break;
      if (!oldest.sent) {
        this.#decodeHere(oldest);
        break;
      }
      // The oldest batch is on a worker: decode the newest batch no worker has taken instead of waiting,
      // then let the workers' answers in.
      const spare = this.#queue.findLast((b) => !b.sent && !b.done);
      if (!spare) {
        await oldest.sent;
        continue;
      }
      this.#decodeHere(spare);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    this.#queue.shift();
    // Undefined when a worker failed: the auditor then decodes those blocks itself.
    const decoded = oldest.decoded;
    oldest.blocks.forEach((block, i) => {
      this.#auditor.processBlock(block, decoded?.[i]);
      this.#onBlock?.(this.#auditor.counts.blocks, this.#auditor.counts.transactions);
    });
  }
}

/**
 * Replays every block of `source` through an {@link Auditor} and summarizes what it found. A source that
 * fails to decode ends as a BLOCK_UNPARSABLE failure at the block it reached, never as a skipped block.
 */
export async function auditChain(
  source: BlockSource,
  options: AuditChainOptions,
): Promise<{ report: AuditReport; auditor: Auditor }> {
  const started = Date.now();
  const byRecomputedCode: Record<string, number> = {};
  const invalidByEndorsingOrg: Record<string, Record<string, number>> = {};
  const auditor = new Auditor({
    genesisHash: options.genesisHash,
    ...(options.mode ? { mode: options.mode } : {}),
    onTransaction: (tx) => {
      byRecomputedCode[tx.recomputedCode] = (byRecomputedCode[tx.recomputedCode] ?? 0) + 1;
      if (tx.recomputedCode !== 'VALID' && tx.type === 'ENDORSER_TRANSACTION')
        for (const org of new Set(tx.endorserMspIds)) {
          const perOrg = (invalidByEndorsingOrg[org] ??= {});
          perOrg[tx.recomputedCode] = (perOrg[tx.recomputedCode] ?? 0) + 1;
        }
      options.onTransaction?.(tx);
    },
  });
  const workers = options.mode === 'hashes-only' ? 0 : (options.workers ?? availableParallelism());
  const decoder = workers > 0 ? new BlockDecoderPool(workers) : undefined;
  const pipeline = decoder ? new DecodingPipeline(auditor, decoder, workers, options.onBlock) : undefined;
  try {
    try {
      for await (const block of source) {
        if (pipeline) await pipeline.push(block);
        else {
          auditor.processBlock(block);
          options.onBlock?.(auditor.counts.blocks, auditor.counts.transactions);
        }
        if (options.toBlock !== undefined && block.number >= options.toBlock) break;
      }
    } finally {
      // The blocks read before a failing source are replayed before its failure is recorded.
      await pipeline?.drain();
    }
  } catch (err) {
    if (!(err instanceof ThreadsealError)) throw err;
    auditor.anomalies.push({
      kind: 'BLOCK_UNPARSABLE',
      block: auditor.nextBlock,
      detail: `the block source failed after ${auditor.counts.blocks} blocks: ${err.message}`,
    });
  } finally {
    await decoder?.close();
  }
  const digest = createHash('sha256');
  for (const [space, key, v] of auditor.state.entries()) {
    digest.update(
      `${space.length}:${space}${key.length}:${key}${v.version.block}:${v.version.tx}:${v.value.length}:`,
    );
    digest.update(v.value);
  }
  const report: AuditReport = {
    blocks: auditor.counts.blocks,
    transactions: auditor.counts.transactions,
    signaturesVerified: auditor.counts.signatures,
    byRecomputedCode,
    invalidByEndorsingOrg,
    failures: auditor.anomalies.filter((a) => !NOTICE_KINDS.has(a.kind)),
    notices: auditor.anomalies.filter((a) => NOTICE_KINDS.has(a.kind)),
    stateKeys: auditor.state.size,
    stateDigest: digest.digest('hex'),
    elapsedMs: Date.now() - started,
  };
  return { report, auditor };
}

/** The report as JSON (bigints as decimal strings), stable for comparison. */
export function auditReportJson(report: AuditReport, includeTiming = false): string {
  const { elapsedMs, ...rest } = report;
  return JSON.stringify(includeTiming ? { ...rest, elapsedMs } : rest, (_k, v: unknown) =>
    typeof v === 'bigint' ? v.toString() : v,
  );
}

/** The report as text for a terminal. */
export function auditReportText(report: AuditReport): string {
  const lines = [
    `blocks ${report.blocks}, transactions ${report.transactions}, signatures verified ${report.signaturesVerified}`,
    `recomputed: ${Object.entries(report.byRecomputedCode)
      .map(([c, n]) => `${c} ${n}`)
      .join(', ')}`,
    `world state: ${report.stateKeys} keys, digest ${report.stateDigest}`,
  ];
  for (const [org, codes] of Object.entries(report.invalidByEndorsingOrg))
    lines.push(
      `invalid endorsed by ${org}: ${Object.entries(codes)
        .map(([c, n]) => `${c} ${n}`)
        .join(', ')}`,
    );
  lines.push(`${report.failures.length} failure(s), ${report.notices.length} notice(s)`);
  for (const a of [...report.failures, ...report.notices])
    lines.push(
      `  ${a.kind} block ${a.block}${a.txIndex === undefined ? '' : ` tx ${a.txIndex}`}${a.txId ? ` (${a.txId.slice(0, 16)}…)` : ''}${a.orgs?.length ? ` [${a.orgs.join(',')}]` : ''}: ${printable(a.detail)}`,
    );
  return lines.join('\n');
}

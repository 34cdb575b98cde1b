import { createHash } from 'node:crypto';
import { ThreadsealError } from '@threadseal/ledger-model';
import { availableParallelism } from 'node:os';
import { Auditor, printable, type AuditedTransaction, type AuditMode } from '../replay/auditor';
import { replayChain } from '../replay/verifying-pipeline';
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
   * Worker threads that verify blocks' signatures ahead of the ordered replay (default: one per core; 0:
   * all on the calling thread). The verdicts are the same either way.
   */
  readonly workers?: number;
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
  try {
    await replayChain(source, auditor, {
      workers: options.mode === 'hashes-only' ? 0 : (options.workers ?? availableParallelism()),
      ...(options.toBlock === undefined ? {} : { toBlock: options.toBlock }),
      afterBlock: () => options.onBlock?.(auditor.counts.blocks, auditor.counts.transactions),
    });
  } catch (err) {
    // The blocks read before a failing source were replayed before its failure is recorded.
    if (!(err instanceof ThreadsealError)) throw err;
    auditor.anomalies.push({
      kind: 'BLOCK_UNPARSABLE',
      block: auditor.nextBlock,
      detail: `the block source failed after ${auditor.counts.blocks} blocks: ${err.message}`,
    });
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

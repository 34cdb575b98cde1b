import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { ThreadsealError } from '@threadseal/ledger-model';
import { blockHeaderHash, type RawBlock } from '../block/raw-block';
import type { Anomaly } from '../replay/anomaly';
import { Auditor, type AuditedTransaction, type AuditMode } from '../replay/auditor';
import { replayChain } from '../replay/verifying-pipeline';
import type { BlockSource } from '../source/block-sources';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS checkpoint (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  genesis_hash TEXT NOT NULL,
  next_block INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS blocks (
  number INTEGER PRIMARY KEY,
  header_hash TEXT NOT NULL,
  previous_hash TEXT NOT NULL,
  data_hash TEXT NOT NULL,
  transactions INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS transactions (
  block INTEGER NOT NULL,
  tx_index INTEGER NOT NULL,
  tx_id TEXT NOT NULL,
  type TEXT NOT NULL,
  chaincode TEXT NOT NULL,
  creator_msp TEXT NOT NULL,
  endorser_msps TEXT NOT NULL,
  peer_code TEXT NOT NULL,
  recomputed_code TEXT NOT NULL,
  reason TEXT,
  PRIMARY KEY (block, tx_index)
);
CREATE INDEX IF NOT EXISTS transactions_by_id ON transactions (tx_id);
CREATE TABLE IF NOT EXISTS writes (
  block INTEGER NOT NULL,
  tx_index INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  namespace TEXT NOT NULL,
  key TEXT NOT NULL,
  value BLOB,
  PRIMARY KEY (block, tx_index, seq)
);
CREATE INDEX IF NOT EXISTS writes_by_key ON writes (namespace, key);
CREATE TABLE IF NOT EXISTS anomalies (
  block INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  kind TEXT NOT NULL,
  tx_index INTEGER,
  tx_id TEXT,
  orgs TEXT NOT NULL,
  detail TEXT NOT NULL,
  PRIMARY KEY (block, seq)
);
`;

/** Options of {@link indexChain}. */
export interface IndexOptions {
  readonly genesisHash: Uint8Array;
  readonly mode?: AuditMode;
  /** Called after each block replayed (written, or re-verified on resume), for a progress display. */
  readonly onBlock?: (blockNumber: bigint, resumed: boolean) => void;
  /** Worker threads that verify signatures ahead of the replay, as for `auditChain` (default: one per core). */
  readonly workers?: number;
}

// Blocks (or transactions) whose rows go in one SQLite transaction with the checkpoint after them: one
// fsync per group instead of per block. A kill still leaves the index at a block boundary.
const GROUP_BLOCKS = 64;
const GROUP_TRANSACTIONS = 256;

/** What an index run did. */
export interface IndexResult {
  /** The block the run resumed from (0 for a new index). */
  readonly resumedFrom: bigint;
  /** The next block the index expects (its checkpoint). */
  readonly nextBlock: bigint;
  readonly anomalies: number;
}

/**
 * Replays `source` into a SQLite index at `file` (signatures verified ahead on worker threads), the rows of each
 * run of blocks in one SQLite transaction that also moves the checkpoint past them: a run killed at any point leaves the index at a block boundary, and the next run re-verifies
 * the blocks before the checkpoint in memory (nothing written) and continues after it — no gap, no
 * duplicate, and the same rows as a run that was never interrupted.
 * @throws ThreadsealError INPUT_ERROR when the index was built for another genesis hash.
 */
export async function indexChain(
  source: BlockSource,
  file: string,
  options: IndexOptions,
): Promise<IndexResult> {
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec(SCHEMA);
    const genesis = Buffer.from(options.genesisHash).toString('hex');
    const checkpoint = db.prepare('SELECT genesis_hash, next_block FROM checkpoint WHERE id = 1').get() as
      { genesis_hash: string; next_block: number } | undefined;
    if (checkpoint && checkpoint.genesis_hash !== genesis)
      throw new ThreadsealError(
        'INPUT_ERROR',
        `the index ${file} was built for genesis ${checkpoint.genesis_hash}, not ${genesis}`,
      );
    const resumedFrom = BigInt(checkpoint?.next_block ?? 0);
    let pendingTx: AuditedTransaction[] = [];
    let pendingAnomalies: Anomaly[] = [];
    const auditor = new Auditor({
      genesisHash: options.genesisHash,
      ...(options.mode ? { mode: options.mode } : {}),
      onTransaction: (tx) => pendingTx.push(tx),
      onAnomaly: (a) => pendingAnomalies.push(a),
    });
    const insertBlock = db.prepare(
      'INSERT INTO blocks (number, header_hash, previous_hash, data_hash, transactions) VALUES (?, ?, ?, ?, ?)',
    );
    const insertTx = db.prepare(
      'INSERT INTO transactions (block, tx_index, tx_id, type, chaincode, creator_msp, endorser_msps, peer_code, recomputed_code, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const insertWrite = db.prepare(
      'INSERT INTO writes (block, tx_index, seq, namespace, key, value) VALUES (?, ?, ?, ?, ?, ?)',
    );
    const insertAnomaly = db.prepare(
      'INSERT INTO anomalies (block, seq, kind, tx_index, tx_id, orgs, detail) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    const setCheckpoint = db.prepare(
      'INSERT INTO checkpoint (id, genesis_hash, next_block) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET next_block = excluded.next_block',
    );
    const writeBlock = (
      block: RawBlock,
      txs: readonly AuditedTransaction[],
      anomalies: readonly Anomaly[],
    ): void => {
      insertBlock.run(
        block.number,
        blockHeaderHash(block).toString('hex'),
        Buffer.from(block.previousHash).toString('hex'),
        Buffer.from(block.dataHash).toString('hex'),
        block.data.length,
      );
      for (const tx of txs) {
        insertTx.run(
          tx.block,
          tx.txIndex,
          tx.txId,
          tx.type,
          tx.chaincode,
          tx.creatorMspId,
          JSON.stringify(tx.endorserMspIds),
          tx.peerCode,
          tx.recomputedCode,
          tx.reason ?? null,
        );
        tx.writes.forEach((w, seq) => {
          insertWrite.run(
            tx.block,
            tx.txIndex,
            seq,
            w.namespace,
            w.key,
            w.value ? Buffer.from(w.value) : null,
          );
        });
      }
      anomalies.forEach((a, seq) => {
        insertAnomaly.run(
          block.number,
          seq,
          a.kind,
          a.txIndex ?? null,
          a.txId ?? null,
          JSON.stringify(a.orgs ?? []),
          a.detail,
        );
      });
    };
    interface Replayed {
      readonly block: RawBlock;
      readonly txs: readonly AuditedTransaction[];
      readonly anomalies: readonly Anomaly[];
    }
    const writeGroup = db.transaction((group: readonly Replayed[]) => {
      for (const r of group) writeBlock(r.block, r.txs, r.anomalies);
      const last = group[group.length - 1];
      if (last) setCheckpoint.run(genesis, last.block.number + 1n);
    });
    let group: Replayed[] = [];
    let groupTransactions = 0;
    const flush = (): void => {
      const rows = group;
      group = [];
      groupTransactions = 0;
      if (rows.length > 0) writeGroup(rows);
    };
    try {
      await replayChain(source, auditor, {
        // Workers verify signatures as they decode: a hashes-only index has no use for that.
        ...(options.mode === 'hashes-only'
          ? { workers: 0 }
          : options.workers === undefined
            ? {}
            : { workers: options.workers }),
        afterBlock: (block) => {
          const resumed = block.number < resumedFrom;
          if (!resumed) {
            group.push({ block, txs: pendingTx, anomalies: pendingAnomalies });
            groupTransactions += block.data.length;
            if (group.length >= GROUP_BLOCKS || groupTransactions >= GROUP_TRANSACTIONS) flush();
          }
          pendingTx = [];
          pendingAnomalies = [];
          options.onBlock?.(block.number, resumed);
        },
      });
    } finally {
      // What was replayed before a failing source is committed, as it would have been block by block.
      flush();
    }
    return { resumedFrom, nextBlock: auditor.nextBlock, anomalies: auditor.anomalies.length };
  } finally {
    db.close();
  }
}

/**
 * A digest of every row of an index, table by table in primary-key order: two indexes with the same
 * rows have the same digest whatever their page layout on disk.
 */
export function indexDigest(file: string): string {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const hash = createHash('sha256');
    const order: Record<string, string> = {
      checkpoint: 'id',
      blocks: 'number',
      transactions: 'block, tx_index',
      writes: 'block, tx_index, seq',
      anomalies: 'block, seq',
    };
    for (const [table, key] of Object.entries(order)) {
      hash.update(`table ${table}\n`);
      for (const row of db
        .prepare(`SELECT * FROM ${table} ORDER BY ${key}`)
        .raw()
        .iterate() as IterableIterator<unknown[]>)
        hash.update(
          `${JSON.stringify(row, (_k, v: unknown) => (Buffer.isBuffer(v) ? `hex:${v.toString('hex')}` : typeof v === 'bigint' ? v.toString() : v))}\n`,
        );
    }
    return hash.digest('hex');
  } finally {
    db.close();
  }
}

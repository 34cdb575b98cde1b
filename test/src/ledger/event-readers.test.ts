import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  blockNumber,
  blockTransactions,
  fileCheckpointer,
  openLedgerClient,
  threadsealLedger,
  type LedgerConnection,
  type ThreadsealLedger,
} from '@threadseal/ledger-client';
import { EVENT } from '@threadseal/ledger-model';
import { closeConnections, connectAs, testCausalGroup } from '../fixtures/ledger';
import { newMachineKey } from '@threadseal/test-support';
import { testNetwork } from '../fixtures/network-fixture';

/**
 * Event readers against the real network: a reader is closed mid-stream together with its connection (as a
 * crashed reader would be), a new reader on a new connection resumes from the file checkpoint, and the two
 * together have seen every block — every transaction this test submitted — exactly once.
 */
describe('event readers resume from a file checkpoint with no gap and no duplicate', function () {
  const run = randomBytes(3).toString('hex');
  let dir: string;

  before(function () {
    dir = mkdtempSync(join(tmpdir(), 'threadseal-checkpoints-'));
  });

  after(function () {
    closeConnections();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Reads blocks from the checkpoint (or `startBlock`) and checkpoints each; stops when `stop` says so. */
  async function readBlocksUntil(
    reader: LedgerConnection,
    file: string,
    startBlock: bigint,
    stop: (seen: bigint) => boolean,
    seen: { block: bigint; valid: string[] }[],
  ): Promise<void> {
    const checkpoint = await fileCheckpointer(file);
    const blocks = await reader.blocks({ checkpoint, startBlock });
    try {
      for await (const block of blocks) {
        const n = blockNumber(block);
        const valid = blockTransactions(block).filter((t) => t.validationCode === 'VALID');
        seen.push({ block: n, valid: valid.map((t) => t.transactionId) });
        await checkpoint.checkpointBlock(n);
        if (stop(n)) break;
      }
    } finally {
      blocks.close();
    }
  }

  it('full blocks: every block from the start once, every submitted transaction VALID once', async function () {
    const writer = connectAs({ org: 'manufacturer', user: 'admin' });
    const startBlock = await writer.peerHeight();
    const submitted: string[] = [];
    let lastBlock = startBlock;
    for (let i = 0; i < 6; i++) {
      const c = await writer.submit('system:PutNote', [`events-${run}-${i}`, String(i)]);
      submitted.push(c.transactionId);
      lastBlock = c.blockNumber;
    }
    const file = join(dir, 'blocks.checkpoint');
    const seen: { block: bigint; valid: string[] }[] = [];

    // The first reader stops after three blocks and its connection goes away with the stream.
    const first = connectAs({ org: 'oem', user: 'admin' });
    await readBlocksUntil(first, file, startBlock, () => seen.length === 3, seen);
    first.close();
    // The second, another org's peer and a fresh checkpointer on the same file, resumes where it stopped.
    const second = connectAs({ org: 'subcontractor', user: 'admin' });
    await readBlocksUntil(second, file, startBlock, (n) => n >= lastBlock, seen);

    const numbers = seen.map((s) => s.block);
    expect(numbers).to.deep.equal(
      Array.from({ length: Number(lastBlock - startBlock) + 1 }, (_, i) => startBlock + BigInt(i)),
    );
    // Each transaction changed state once: one VALID envelope (copies of it, if any, are DUPLICATE_TXID).
    const ours = seen.flatMap((s) => s.valid).filter((id) => submitted.includes(id));
    expect(ours).to.deep.equal(submitted);
  });

  it('chaincode events: typed, each committed registration once across a closed and a resumed reader', async function () {
    const machines: ThreadsealLedger = threadsealLedger(
      openLedgerClient(
        testNetwork().connectionFile,
        { org: 'manufacturer', user: 'machine-admin' },
        { causal: testCausalGroup },
      ),
    );
    const registered: { transactionId: string; machineId: string }[] = [];
    let startBlock: bigint | undefined;
    try {
      for (let i = 0; i < 3; i++) {
        const m = newMachineKey(`ev-m${i}-${run}`);
        const c = await machines.machines.register({
          machineId: m.machineId,
          make: 'EOS',
          model: 'M400-4',
          serial: `${m.machineId}-SN`,
          firmware: '1.0',
          certifications: ['nadcap-am'],
          publicKeyPem: m.publicKeyPem,
          recipientPublicKeyPem: m.recipientPublicKeyPem,
        });
        startBlock ??= c.blockNumber;
        registered.push({ transactionId: c.transactionId, machineId: m.machineId });
      }
    } finally {
      machines.close();
    }
    const file = join(dir, 'events.checkpoint');
    const seen: { transactionId: string; machineId: string }[] = [];
    const read = async (reader: LedgerConnection, stopAfter: number): Promise<void> => {
      const checkpoint = await fileCheckpointer(file);
      const events = await reader.ledgerEvents({
        checkpoint,
        ...(startBlock !== undefined ? { startBlock } : {}),
      });
      try {
        for await (const e of events) {
          if (e.event.name === EVENT.machineRegistered && e.event.payload.machineId.endsWith(run)) {
            seen.push({ transactionId: e.transactionId, machineId: e.event.payload.machineId });
          }
          await checkpoint.checkpointChaincodeEvent(e);
          if (seen.length >= stopAfter) break;
        }
      } finally {
        events.close();
      }
    };

    const first = connectAs({ org: 'manufacturer', user: 'admin' });
    await read(first, 1);
    first.close();
    await read(connectAs({ org: 'oem', user: 'admin' }), registered.length);

    expect(seen).to.deep.equal(registered);
  });
});

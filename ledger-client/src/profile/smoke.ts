import { randomUUID } from 'node:crypto';
import { CausalGroup } from '../connection/causal-group';
import { openLedgerConnection } from './open-from-profile';
import { LedgerError } from '@threadseal/ledger-model';

/** What the smoke flow proved, with the figures a person wants to see. */
export interface SmokeReport {
  readonly transactionId: string;
  readonly blockNumber: bigint;
  readonly endorserMspIds: readonly string[];
  readonly readBackBy: string;
  readonly value: string;
  readonly identity: { readonly mspId: string; readonly attributes: Readonly<Record<string, string | null>> };
}

/**
 * The foundation's end-to-end check: a user of the first org submits a note endorsed by the first two
 * orgs, the commit must be VALID and carry both endorsements, a user of the second org reads it back,
 * and the chaincode echoes the CA attributes of that user's certificate.
 */
export async function runSmoke(
  profileFile: string,
  writer: { org: string; user: string },
  reader: { org: string; user: string },
): Promise<SmokeReport> {
  // One causal group: the reader's peer must hold the writer's block before it reads the note back.
  const causal = new CausalGroup();
  const w = openLedgerConnection(profileFile, writer, { causal });
  const r = openLedgerConnection(profileFile, reader, { causal });
  try {
    const key = `smoke-${randomUUID()}`;
    const value = `written by ${writer.user}@${writer.org} at ${new Date().toISOString()}`;
    const endorsingOrgs = [w.mspId, r.mspId];
    const committed = await w.submit('system:PutNote', [key, value], { endorsingOrgs });
    const record = await w.transactionRecord(committed.transactionId);
    for (const msp of endorsingOrgs) {
      if (!record.endorserMspIds.includes(msp)) {
        throw new LedgerError(
          'CORRUPT_STATE',
          `transaction ${committed.transactionId} lacks an endorsement from ${msp}: ${record.endorserMspIds.join(', ')}`,
        );
      }
    }
    const readBack = Buffer.from(await r.evaluate('system:GetNote', [key])).toString('utf8');
    if (readBack !== value) {
      throw new LedgerError('CORRUPT_STATE', `read back '${readBack}', expected '${value}'`);
    }
    const identity = JSON.parse(
      Buffer.from(await r.evaluate('system:WhoAmI')).toString('utf8'),
    ) as SmokeReport['identity'];
    return {
      transactionId: committed.transactionId,
      blockNumber: committed.blockNumber,
      endorserMspIds: record.endorserMspIds,
      readBackBy: `${reader.user}@${reader.org}`,
      value: readBack,
      identity,
    };
  } finally {
    w.close();
    r.close();
  }
}

import { Context, Contract, Info, Returns, Transaction } from 'fabric-contract-api';
import { LedgerError } from '@threadseal/ledger-model';
import { peersOf } from '../ledger/endorsement.js';
import { ownerGuards } from '../ledger/stakeholders.js';

/** What the chaincode sees of the submitting client: MSP, subject and the CA attributes we rely on. */
export interface ClientIdentityView {
  readonly mspId: string;
  readonly id: string;
  readonly attributes: Readonly<Record<string, string | null>>;
}

/** Attribute names put into enrollment certificates by the org CAs (`:ecert`). */
export const IDENTITY_ATTRIBUTES = ['role', 'qualification', 'serial'] as const;

/**
 * Network-level checks used by the foundation: liveness, the client identity as the chaincode sees it,
 * and a one-key note write used by the gateway smoke test and the network benchmark.
 */
@Info({ title: 'SystemContract', description: 'Liveness, identity echo and smoke writes' })
export class SystemContract extends Contract {
  constructor() {
    super('system');
  }

  /** Answers as soon as the chaincode process is registered with its peer. */
  @Transaction(false)
  @Returns('string')
  public Ping(): Promise<string> {
    return Promise.resolve('pong');
  }

  /** Returns the submitting identity with the CA attributes the ledger rules read. */
  @Transaction(false)
  @Returns('string')
  public WhoAmI(ctx: Context): Promise<string> {
    const attributes: Record<string, string | null> = {};
    for (const name of IDENTITY_ATTRIBUTES) attributes[name] = ctx.clientIdentity.getAttributeValue(name);
    const view: ClientIdentityView = {
      mspId: ctx.clientIdentity.getMSPID(),
      id: ctx.clientIdentity.getID(),
      attributes,
    };
    return Promise.resolve(JSON.stringify(view));
  }

  /**
   * Writes one new key (`note~<key>`), the minimal write used as the throughput baseline. A note is written
   * once: it cannot overwrite another's, and its key is guarded by the writer's org and the channel's
   * stakeholders. Notes carry no rights.
   * @throws LedgerError INVALID_ARGUMENT, ALREADY_EXISTS.
   */
  @Transaction()
  public async PutNote(ctx: Context, key: string, value: string): Promise<void> {
    if (key.length === 0 || key.length > 128)
      throw new LedgerError('INVALID_ARGUMENT', `note key must be 1..128 characters, got ${key.length}`);
    const ledgerKey = ctx.stub.createCompositeKey('note', [key]);
    if ((await ctx.stub.getState(ledgerKey)).length > 0)
      throw new LedgerError('ALREADY_EXISTS', `note ${key} already exists`);
    await ctx.stub.putState(ledgerKey, Buffer.from(value, 'utf8'));
    await ctx.stub.setStateValidationParameter(
      ledgerKey,
      peersOf(...ownerGuards(ctx.clientIdentity.getMSPID())),
    );
  }

  /** Reads a note written by `PutNote`. */
  @Transaction(false)
  @Returns('string')
  public async GetNote(ctx: Context, key: string): Promise<string> {
    const bytes = await ctx.stub.getState(ctx.stub.createCompositeKey('note', [key]));
    if (bytes.length === 0) throw new LedgerError('NOT_FOUND', `note ${key} does not exist`);
    return Buffer.from(bytes).toString('utf8');
  }
}

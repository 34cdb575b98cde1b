import { CONTRACT, TX } from '@threadseal/ledger-model';
import { Context, Contract, Info, Returns, Transaction } from 'fabric-contract-api';
import { assertCanManageDsi, assertCanRegisterDsi, submitterOf } from '../access/access-control.js';
import {
  decodeDsiRef,
  decodeRegisterDsi,
  decodeRevokeDsi,
  decodeSupersedeDsi,
  parseArgument,
  registerDsi,
  revokeDsi,
  supersedeDsi,
  verifyDsiRegistration,
} from '@threadseal/rules';
import { peerClock } from '../ledger/clock.js';
import { encodeText } from '../ledger/codec.js';
import { openScope } from './transaction-scope.js';

/** The DSI registry: the IP owner registers, supersedes and revokes its DSIs. */
@Info({ title: 'DsiContract', description: 'Registry of DSIs (digitally secured items) and their revisions' })
export class DsiContract extends Contract {
  readonly #peerNow: () => number;

  /** @param peerNow the peer clock, replaceable in unit tests. */
  public constructor(peerNow: () => number = peerClock) {
    super(CONTRACT.dsi);
    this.#peerNow = peerNow;
  }

  /**
   * `dsi:Register` — registers a DSI owned by the submitter's org, which must have signed its manifest (the
   * record's fields come from the verified manifest); returns the {@link Dsi}.
   */
  @Transaction()
  @Returns('string')
  public async Register(ctx: Context, inputJson: string): Promise<string> {
    const input = decodeRegisterDsi(parseArgument(inputJson, TX.dsi.register));
    const scope = openScope(ctx, this.#peerNow);
    assertCanRegisterDsi(scope.actor);
    const manifest = verifyDsiRegistration(input, submitterOf(ctx.clientIdentity));
    const { dsi, event } = registerDsi(manifest, scope.actor.mspId, scope.now());
    await scope.repository.createDsi(dsi);
    scope.emit(event);
    return encodeText(dsi);
  }

  /** `dsi:Supersede` — registers the next revision (signed by the submitter, as for Register) and marks the old one superseded; returns the new {@link Dsi}. */
  @Transaction()
  @Returns('string')
  public async Supersede(ctx: Context, inputJson: string): Promise<string> {
    const input = decodeSupersedeDsi(parseArgument(inputJson, TX.dsi.supersede));
    const scope = openScope(ctx, this.#peerNow);
    const old = await scope.repository.requireDsi(input.dsiId);
    assertCanManageDsi(scope.actor, old);
    const successor = verifyDsiRegistration(input.successor, submitterOf(ctx.clientIdentity));
    const result = supersedeDsi(old, successor, scope.now());
    await scope.repository.createDsi(result.successor);
    await scope.repository.updateDsi(result.old);
    scope.emit(result.event);
    return encodeText(result.successor);
  }

  /** `dsi:Revoke` — revokes a DSI: no build can start under any of its licenses; returns the {@link Dsi}. */
  @Transaction()
  @Returns('string')
  public async Revoke(ctx: Context, inputJson: string): Promise<string> {
    const input = decodeRevokeDsi(parseArgument(inputJson, TX.dsi.revoke));
    const scope = openScope(ctx, this.#peerNow);
    const current = await scope.repository.requireDsi(input.dsiId);
    assertCanManageDsi(scope.actor, current);
    const { dsi, event } = revokeDsi(current, input.reason, scope.now());
    await scope.repository.updateDsi(dsi);
    scope.emit(event);
    return encodeText(dsi);
  }

  /** `dsi:Get` — returns the {@link Dsi}. */
  @Transaction(false)
  @Returns('string')
  public async Get(ctx: Context, inputJson: string): Promise<string> {
    const input = decodeDsiRef(parseArgument(inputJson, TX.dsi.get));
    return encodeText(await openScope(ctx, this.#peerNow).repository.requireDsi(input.dsiId));
  }
}

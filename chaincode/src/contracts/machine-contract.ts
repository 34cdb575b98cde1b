import { CONTRACT, TX } from '@threadseal/ledger-model';
import { Context, Contract, Info, Returns, Transaction } from 'fabric-contract-api';
import { assertCanRegisterMachine } from '../access/access-control.js';
import { decodeMachineRef, decodeRegisterMachine, parseArgument, registerMachine } from '@threadseal/rules';
import { peerClock } from '../ledger/clock.js';
import { encodeText } from '../ledger/codec.js';
import { openScope } from './transaction-scope.js';

/** The machine registry: an org registers its machines with their signing keys. */
@Info({ title: 'MachineContract', description: 'Registry of production machines and their P-256 keys' })
export class MachineContract extends Contract {
  readonly #peerNow: () => number;

  /** @param peerNow the peer clock, replaceable in unit tests. */
  public constructor(peerNow: () => number = peerClock) {
    super(CONTRACT.machine);
    this.#peerNow = peerNow;
  }

  /** `machine:Register` — registers a machine of the submitter's org; returns the {@link Machine}. */
  @Transaction()
  @Returns('string')
  public async Register(ctx: Context, inputJson: string): Promise<string> {
    const input = decodeRegisterMachine(parseArgument(inputJson, TX.machine.register));
    const scope = openScope(ctx, this.#peerNow);
    assertCanRegisterMachine(scope.actor);
    const { machine, event } = registerMachine(input, scope.actor.mspId, scope.now());
    await scope.repository.createMachine(machine);
    scope.emit(event);
    return encodeText(machine);
  }

  /** `machine:Get` — returns the {@link Machine}. */
  @Transaction(false)
  @Returns('string')
  public async Get(ctx: Context, inputJson: string): Promise<string> {
    const input = decodeMachineRef(parseArgument(inputJson, TX.machine.get));
    return encodeText(await openScope(ctx, this.#peerNow).repository.requireMachine(input.machineId));
  }
}

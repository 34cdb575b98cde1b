import { CONTRACT, TX } from '@threadseal/ledger-model';
import { Context, Contract, Info, Returns, Transaction } from 'fabric-contract-api';
import {
  assertCanDeactivateMachine,
  assertCanRegisterMachine,
  assertCanRotateMachineKeys,
} from '../access/access-control.js';
import {
  deactivateMachine,
  decodeDeactivateMachine,
  decodeMachineRef,
  decodeRegisterMachine,
  decodeRotateMachineKeys,
  parseArgument,
  registerMachine,
  rotateMachineKeys,
} from '@threadseal/rules';
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

  /**
   * `machine:Deactivate` — from this transaction on, no build starts on the machine, no unit is allocated to it
   * and no key is released to it. Returns the {@link Machine}.
   */
  @Transaction()
  @Returns('string')
  public async Deactivate(ctx: Context, inputJson: string): Promise<string> {
    const input = decodeDeactivateMachine(parseArgument(inputJson, TX.machine.deactivate));
    const scope = openScope(ctx, this.#peerNow);
    const current = await scope.repository.requireMachine(input.machineId);
    assertCanDeactivateMachine(scope.actor, current);
    const { machine, event } = deactivateMachine(current, input, scope.now());
    await scope.repository.updateMachine(machine);
    scope.emit(event);
    return encodeText(machine);
  }

  /**
   * `machine:RotateKeys` — replaces the machine's signing and recipient keys with two new ones; the owner's
   * machine-admin submits, the machine key's guards (owner and stakeholders) endorse. Returns the {@link Machine}.
   */
  @Transaction()
  @Returns('string')
  public async RotateKeys(ctx: Context, inputJson: string): Promise<string> {
    const input = decodeRotateMachineKeys(parseArgument(inputJson, TX.machine.rotateKeys));
    const scope = openScope(ctx, this.#peerNow);
    const current = await scope.repository.requireMachine(input.machineId);
    assertCanRotateMachineKeys(scope.actor, current);
    const { machine, event } = rotateMachineKeys(current, input);
    await scope.repository.updateMachine(machine);
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

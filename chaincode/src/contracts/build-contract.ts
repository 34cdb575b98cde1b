import { CONTRACT, LedgerError, TRANSIENT, TX } from '@threadseal/ledger-model';
import { Context, Contract, Info, Returns, Transaction } from 'fabric-contract-api';
import { assertCanFinishBuild, submitterOf } from '../access/access-control.js';
import {
  abortBuild,
  assertOperatorIsSubmitter,
  assertRequestAuthentic,
  completeBuild,
  decodeAbortBuild,
  decodeBuildNonceRef,
  decodeBuildRef,
  decodeCompleteBuild,
  decodeScrapBuild,
  decodeStartBuild,
  parseArgument,
  scrapBuild,
  rightsGuards,
  startBuild,
} from '@threadseal/rules';
import { peerClock } from '../ledger/clock.js';
import { encodeText } from '../ledger/codec.js';
import { openScope } from './transaction-scope.js';

const isEmptyObject = (value: unknown): boolean =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0;

/** Builds: consume one allocated unit per build, record the part, or record why there is none. */
@Info({ title: 'BuildContract', description: 'Machine-signed builds consuming allocated units' })
export class BuildContract extends Contract {
  readonly #peerNow: () => number;

  /** @param peerNow the peer clock, replaceable in unit tests. */
  public constructor(peerNow: () => number = peerClock) {
    super(CONTRACT.build);
    this.#peerNow = peerNow;
  }

  /**
   * `build:Start` — verifies the machine's signature, that the request's operator is the submitter, and the
   * nonce; checks the license chain, machine, operator and
   * parameters, and consumes one unit of the machine's allocation; the build id is the transaction id.
   * Returns the {@link Build}.
   */
  @Transaction()
  @Returns('string')
  public async Start(ctx: Context, inputJson: string): Promise<string> {
    const argument = parseArgument(inputJson, TX.build.start);
    const scope = openScope(ctx, this.#peerNow);
    const transported = scope.transientJson(TRANSIENT.startBuild);
    if (transported !== undefined && !isEmptyObject(argument)) {
      throw new LedgerError(
        'INVALID_ARGUMENT',
        `input: expected {} when the StartBuild input travels in the transient field ${TRANSIENT.startBuild}`,
      );
    }
    const { request, signature } = decodeStartBuild(transported ?? argument);
    const now = scope.checkedNow();
    const machine = await scope.repository.requireMachine(request.machineId);
    assertRequestAuthentic(machine, request, signature, now);
    assertOperatorIsSubmitter(request, submitterOf(ctx.clientIdentity));
    const allocation = await scope.repository.requireAllocation(request.licenseId, machine.machineId);
    const dsi = await scope.repository.requireDsi(allocation.dsiId);
    const chain = await scope.repository.loadChain(request.licenseId, scope.transientTerms, dsi.ownerMsp);
    const leaf =
      chain[chain.length - 1]?.license ?? (await scope.repository.requireLicense(request.licenseId));
    const guards = rightsGuards(dsi.ownerMsp, leaf);
    await scope.repository.recordNonce(machine.machineId, request.nonce, scope.txId, guards);
    if (leaf.confidential !== null && transported === undefined) {
      throw new LedgerError(
        'INVALID_ARGUMENT',
        `license ${leaf.licenseId} is confidential: send the StartBuild input in the transient field ${TRANSIENT.startBuild}, not in the argument that reaches the block`,
      );
    }
    const result = startBuild(dsi, chain, allocation, machine, scope.actor, request, now, scope.txId);
    await scope.repository.putAllocation(result.allocation);
    await scope.repository.createBuild(result.build, guards);
    scope.emit(result.event);
    return encodeText(result.build);
  }

  /** `build:Complete` — records the part id and process-record digest of a running build; returns the {@link Build}. */
  @Transaction()
  @Returns('string')
  public async Complete(ctx: Context, inputJson: string): Promise<string> {
    const input = decodeCompleteBuild(parseArgument(inputJson, TX.build.complete));
    const scope = openScope(ctx, this.#peerNow);
    const current = await scope.repository.requireBuild(input.buildId);
    assertCanFinishBuild(scope.actor, current);
    const { build, part, event } = completeBuild(current, input, scope.now());
    const dsi = await scope.repository.requireDsi(current.dsiId);
    const license = await scope.repository.requireLicense(current.licenseId);
    await scope.repository.updateBuild(build);
    await scope.repository.createPart(part, rightsGuards(dsi.ownerMsp, license));
    scope.emit(event);
    return encodeText(build);
  }

  /** `build:Abort` — records why a running build stopped; the unit stays consumed. Returns the {@link Build}. */
  @Transaction()
  @Returns('string')
  public async Abort(ctx: Context, inputJson: string): Promise<string> {
    const input = decodeAbortBuild(parseArgument(inputJson, TX.build.abort));
    const scope = openScope(ctx, this.#peerNow);
    const current = await scope.repository.requireBuild(input.buildId);
    assertCanFinishBuild(scope.actor, current);
    const { build, event } = abortBuild(current, input, scope.now());
    await scope.repository.updateBuild(build);
    scope.emit(event);
    return encodeText(build);
  }

  /** `build:Scrap` — scraps a build; with evidence and allowance left the unit is credited back. Returns the {@link Build}. */
  @Transaction()
  @Returns('string')
  public async Scrap(ctx: Context, inputJson: string): Promise<string> {
    const input = decodeScrapBuild(parseArgument(inputJson, TX.build.scrap));
    const scope = openScope(ctx, this.#peerNow);
    const current = await scope.repository.requireBuild(input.buildId);
    assertCanFinishBuild(scope.actor, current);
    const allocation = await scope.repository.requireAllocation(current.licenseId, current.machineId);
    const machine = await scope.repository.requireMachine(current.machineId);
    const result = scrapBuild(current, allocation, machine, input, scope.now());
    await scope.repository.updateBuild(result.build);
    if (result.allocation !== allocation) await scope.repository.putAllocation(result.allocation);
    scope.emit(result.event);
    return encodeText(result.build);
  }

  /** `build:GetByNonce` — the {@link Build} a machine's signed request started, by the request's nonce. */
  @Transaction(false)
  @Returns('string')
  public async GetByNonce(ctx: Context, inputJson: string): Promise<string> {
    const input = decodeBuildNonceRef(parseArgument(inputJson, TX.build.getByNonce));
    return encodeText(
      await openScope(ctx, this.#peerNow).repository.requireBuildByNonce(input.machineId, input.nonce),
    );
  }

  /** `build:Get` — returns the {@link Build}. */
  @Transaction(false)
  @Returns('string')
  public async Get(ctx: Context, inputJson: string): Promise<string> {
    const input = decodeBuildRef(parseArgument(inputJson, TX.build.get));
    return encodeText(await openScope(ctx, this.#peerNow).repository.requireBuild(input.buildId));
  }
}

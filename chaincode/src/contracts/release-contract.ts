import { CONTRACT, TX } from '@threadseal/ledger-model';
import { Context, Contract, Info, Returns, Transaction } from 'fabric-contract-api';
import { assertCanReleaseKeys } from '../access/access-control.js';
import {
  decodeRecordRelease,
  decodeReleaseRef,
  parseArgument,
  recordRelease,
  rightsGuards,
} from '@threadseal/rules';
import { peerClock } from '../ledger/clock.js';
import { encodeText } from '../ledger/codec.js';
import { openScope } from './transaction-scope.js';

/** Key releases: the DSI owner's key-release service seals a running build's content keys to its machine. */
@Info({ title: 'ReleaseContract', description: 'Content keys released to the machine of a committed build' })
export class ReleaseContract extends Contract {
  readonly #peerNow: () => number;

  /** @param peerNow the peer clock, replaceable in unit tests. */
  public constructor(peerNow: () => number = peerClock) {
    super(CONTRACT.release);
    this.#peerNow = peerNow;
  }

  /**
   * `release:Record` — records the content keys of a running build's DSI sealed to its machine's recipient key,
   * once per build, after checking the build, the machine and the whole license chain now. Returns the
   * {@link KeyRelease}.
   */
  @Transaction()
  @Returns('string')
  public async Record(ctx: Context, inputJson: string): Promise<string> {
    const input = decodeRecordRelease(parseArgument(inputJson, TX.release.record));
    const scope = openScope(ctx, this.#peerNow);
    const build = await scope.repository.requireBuild(input.buildId);
    const dsi = await scope.repository.requireDsi(build.dsiId);
    assertCanReleaseKeys(scope.actor, dsi);
    const machine = await scope.repository.requireMachine(build.machineId);
    const chain = await scope.repository.loadChain(build.licenseId, scope.transientTerms, dsi.ownerMsp);
    const { release, event } = recordRelease(
      dsi,
      chain,
      build,
      machine,
      scope.actor,
      input,
      scope.checkedNow(),
    );
    const leaf = chain[chain.length - 1]?.license ?? (await scope.repository.requireLicense(build.licenseId));
    await scope.repository.createRelease(release, rightsGuards(dsi.ownerMsp, leaf));
    scope.emit(event);
    return encodeText(release);
  }

  /** `release:Get` — returns the {@link KeyRelease} of a build. */
  @Transaction(false)
  @Returns('string')
  public async Get(ctx: Context, inputJson: string): Promise<string> {
    const input = decodeReleaseRef(parseArgument(inputJson, TX.release.get));
    return encodeText(await openScope(ctx, this.#peerNow).repository.requireRelease(input.buildId));
  }
}

import {
  CONTRACT,
  TX,
  type Allocation,
  type Build,
  type DsiTree,
  type License,
  type LicenseBalance,
  type LicenseHistory,
  type LicenseRevocation,
  type LicenseView,
  type Part,
  type PartHistory,
} from '@threadseal/ledger-model';
import { Context, Contract, Info, Returns, Transaction } from 'fabric-contract-api';
import {
  decodeAllocationRef,
  decodeDsiRef,
  decodeLicenseRef,
  decodePartRef,
  parseArgument,
  remainingUnits,
} from '@threadseal/rules';
import { peerClock } from '../ledger/clock.js';
import { encodeText } from '../ledger/codec.js';
import { TREE_KIND } from '../ledger/keys.js';
import { openScope } from './transaction-scope.js';

/** Read-only trace queries: a DSI's whole tree and the history of licenses, allocations and parts. */
@Info({ title: 'TraceContract', description: 'Tree and history queries over the digital thread' })
export class TraceContract extends Contract {
  readonly #peerNow: () => number;

  /** @param peerNow the peer clock, replaceable in unit tests. */
  public constructor(peerNow: () => number = peerClock) {
    super(CONTRACT.trace);
    this.#peerNow = peerNow;
  }

  /**
   * `trace:GetDsiTree` — every license (parents first), allocation, machine, build and part under one DSI,
   * read through `tree~<dsiId>~…` partial keys. Returns the {@link DsiTree}.
   */
  @Transaction(false)
  @Returns('string')
  public async GetDsiTree(ctx: Context, inputJson: string): Promise<string> {
    const input = decodeDsiRef(parseArgument(inputJson, TX.trace.getDsiTree));
    const { repository } = openScope(ctx, this.#peerNow);
    const dsi = await repository.requireDsi(input.dsiId);
    const licenses = await repository.treeRecords<License>(dsi.dsiId, TREE_KIND.license);
    licenses.sort((a, b) => a.ancestry.length - b.ancestry.length || (a.licenseId < b.licenseId ? -1 : 1));
    const views: LicenseView[] = [];
    for (const license of licenses) {
      const balance = await repository.requireBalance(license.licenseId);
      views.push({
        license,
        balance,
        revocation: await repository.revocationOf(license.licenseId),
        remaining: remainingUnits(license, balance),
      });
    }
    const allocations = await repository.treeRecords<Allocation>(dsi.dsiId, TREE_KIND.allocation);
    const tree: DsiTree = {
      dsi,
      licenses: views,
      allocations,
      machines: await repository.machines(allocations.map((allocation) => allocation.machineId)),
      builds: await repository.treeRecords<Build>(dsi.dsiId, TREE_KIND.build),
      parts: await repository.treeRecords<Part>(dsi.dsiId, TREE_KIND.part),
    };
    return encodeText(tree);
  }

  /** `trace:GetLicenseHistory` — versions of the license, its balance and its revocation status; returns {@link LicenseHistory}. */
  @Transaction(false)
  @Returns('string')
  public async GetLicenseHistory(ctx: Context, inputJson: string): Promise<string> {
    const input = decodeLicenseRef(parseArgument(inputJson, TX.trace.getLicenseHistory));
    const { repository } = openScope(ctx, this.#peerNow);
    await repository.requireLicense(input.licenseId);
    const history: LicenseHistory = {
      license: await repository.history<License>(repository.keys.license(input.licenseId)),
      balance: await repository.history<LicenseBalance>(repository.keys.licenseBalance(input.licenseId)),
      revocation: await repository.history<LicenseRevocation>(
        repository.keys.licenseRevocation(input.licenseId),
      ),
    };
    return encodeText(history);
  }

  /** `trace:GetAllocationHistory` — versions of one allocation, newest first; returns `HistoryEntry<Allocation>[]`. */
  @Transaction(false)
  @Returns('string')
  public async GetAllocationHistory(ctx: Context, inputJson: string): Promise<string> {
    const input = decodeAllocationRef(parseArgument(inputJson, TX.trace.getAllocationHistory));
    const { repository } = openScope(ctx, this.#peerNow);
    await repository.requireAllocation(input.licenseId, input.machineId);
    return encodeText(
      await repository.history<Allocation>(repository.keys.allocation(input.licenseId, input.machineId)),
    );
  }

  /** `trace:GetPart` — returns the {@link Part}. */
  @Transaction(false)
  @Returns('string')
  public async GetPart(ctx: Context, inputJson: string): Promise<string> {
    const input = decodePartRef(parseArgument(inputJson, TX.trace.getPart));
    return encodeText(await openScope(ctx, this.#peerNow).repository.requirePart(input.partId));
  }

  /** `trace:GetPartHistory` — versions of the part's key and of its build's key; returns {@link PartHistory}. */
  @Transaction(false)
  @Returns('string')
  public async GetPartHistory(ctx: Context, inputJson: string): Promise<string> {
    const input = decodePartRef(parseArgument(inputJson, TX.trace.getPartHistory));
    const { repository } = openScope(ctx, this.#peerNow);
    const part = await repository.requirePart(input.partId);
    const history: PartHistory = {
      part: await repository.history<Part>(repository.keys.part(part.partId)),
      build: await repository.history<Build>(repository.keys.build(part.buildId)),
    };
    return encodeText(history);
  }
}

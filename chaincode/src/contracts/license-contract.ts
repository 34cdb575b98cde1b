import {
  CONTRACT,
  LedgerError,
  TRANSIENT,
  TX,
  type License,
  type LicenseTermsView,
  type LicenseView,
  type ProductionTerms,
} from '@threadseal/ledger-model';
import { Context, Contract, Info, Returns, Transaction } from 'fabric-contract-api';
import {
  assertCanIssueLicense,
  assertCanReadTerms,
  assertCanRevokeLicense,
  assertCanSpendLicense,
} from '../access/access-control.js';
import {
  allocateUnits,
  assertNotSelfIssue,
  decodeAllocate,
  decodeIssueLicense,
  decodeLicenseRef,
  decodeRevokeLicense,
  decodeSplitLicense,
  issueLicense,
  parseArgument,
  remainingUnits,
  revokeLicense,
  rightsGuards,
  splitLicense,
  type TermsPlacement,
} from '@threadseal/rules';
import { peerClock } from '../ledger/clock.js';
import { encodeText } from '../ledger/codec.js';
import { termsCollection } from '../ledger/collections.js';
import type { LedgerRepository } from '../ledger/repository.js';
import { openScope, type TransientTerms } from './transaction-scope.js';

/**
 * Where the terms of a new license come from: the argument for a public license, the transient field
 * `terms` for a confidential one (so they never reach the block).
 * @throws LedgerError INVALID_ARGUMENT.
 */
function newTerms(
  confidential: boolean,
  argumentTerms: ProductionTerms | undefined,
  transient: TransientTerms,
  licenseId: string,
  guards: readonly string[],
): { readonly terms: ProductionTerms; readonly placement: TermsPlacement } {
  if (!confidential) {
    if (argumentTerms === undefined)
      throw new LedgerError(
        'INVALID_ARGUMENT',
        `input.terms: expected the production terms of public license ${licenseId}, got nothing`,
      );
    return { terms: argumentTerms, placement: null };
  }
  if (argumentTerms !== undefined) {
    throw new LedgerError(
      'INVALID_ARGUMENT',
      `input.terms: license ${licenseId} is confidential; its terms go in the transient field ${TRANSIENT.terms}, not in the argument`,
    );
  }
  const terms = transient.newTerms();
  if (terms === null)
    throw new LedgerError(
      'INVALID_ARGUMENT',
      `transient.${TRANSIENT.terms}: expected the confidential terms of license ${licenseId}, got nothing`,
    );
  return { terms, placement: { collection: termsCollection(...guards) } };
}

async function viewOf(repository: LedgerRepository, license: License): Promise<LicenseView> {
  const balance = await repository.requireBalance(license.licenseId);
  const revocation = await repository.revocationOf(license.licenseId);
  return { license, balance, revocation, remaining: remainingUnits(license, balance) };
}

/** Licenses: issue by the DSI owner, split into sub-licenses, allocate to machines, revoke. */
@Info({ title: 'LicenseContract', description: 'License tree of a DSI: issue, split, allocate, revoke' })
export class LicenseContract extends Contract {
  readonly #peerNow: () => number;

  /** @param peerNow the peer clock, replaceable in unit tests. */
  public constructor(peerNow: () => number = peerClock) {
    super(CONTRACT.license);
    this.#peerNow = peerNow;
  }

  /** `license:Issue` — the DSI owner licenses its DSI to an org; returns the {@link LicenseView}. */
  @Transaction()
  @Returns('string')
  public async Issue(ctx: Context, inputJson: string): Promise<string> {
    const input = decodeIssueLicense(parseArgument(inputJson, TX.license.issue));
    const scope = openScope(ctx, this.#peerNow);
    const dsi = await scope.repository.requireDsi(input.dsiId);
    assertCanIssueLicense(scope.actor, dsi);
    assertNotSelfIssue(dsi.ownerMsp, input.holderMsp, input.licenseId);
    const guards = rightsGuards(dsi.ownerMsp, {
      licenseId: input.licenseId,
      grantorMsp: dsi.ownerMsp,
      holderMsp: input.holderMsp,
    });
    const { terms, placement } = newTerms(
      input.confidential,
      input.terms,
      scope.transientTerms,
      input.licenseId,
      guards,
    );
    const created = issueLicense(dsi, input, terms, placement, scope.now(), scope.txId);
    await scope.repository.createLicense(created, terms, placement, guards);
    scope.emit(created.event);
    return encodeText({
      license: created.license,
      balance: created.balance,
      revocation: created.revocation,
      remaining: created.license.grant.quantity,
    });
  }

  /** `license:Split` — the holder grants part of its remaining units under narrower terms; returns the child {@link LicenseView}. */
  @Transaction()
  @Returns('string')
  public async Split(ctx: Context, inputJson: string): Promise<string> {
    const input = decodeSplitLicense(parseArgument(inputJson, TX.license.split));
    const scope = openScope(ctx, this.#peerNow);
    const parent = await scope.repository.requireLicense(input.parentId);
    assertCanSpendLicense(scope.actor, parent);
    const now = scope.checkedNow();
    const dsi = await scope.repository.requireDsi(parent.dsiId);
    const chain = await scope.repository.loadChain(parent.licenseId, scope.transientTerms, dsi.ownerMsp);
    const balance = await scope.repository.requireBalance(parent.licenseId);
    const guards = rightsGuards(dsi.ownerMsp, {
      licenseId: input.licenseId,
      grantorMsp: parent.holderMsp,
      holderMsp: input.holderMsp,
    });
    const { terms, placement } = newTerms(
      parent.confidential !== null,
      input.terms,
      scope.transientTerms,
      input.licenseId,
      guards,
    );
    const result = splitLicense(dsi, chain, balance, input, terms, placement, now, scope.txId);
    await scope.repository.createLicense(result, terms, placement, guards);
    await scope.repository.putBalance(result.parentBalance);
    scope.emit(result.event);
    return encodeText({
      license: result.license,
      balance: result.balance,
      revocation: result.revocation,
      remaining: result.license.grant.quantity,
    });
  }

  /** `license:Allocate` — gives units of a manufacturing license to one of the holder's machines; returns the {@link Allocation}. */
  @Transaction()
  @Returns('string')
  public async Allocate(ctx: Context, inputJson: string): Promise<string> {
    const input = decodeAllocate(parseArgument(inputJson, TX.license.allocate));
    const scope = openScope(ctx, this.#peerNow);
    const license = await scope.repository.requireLicense(input.licenseId);
    assertCanSpendLicense(scope.actor, license);
    const now = scope.checkedNow();
    const dsi = await scope.repository.requireDsi(license.dsiId);
    const chain = await scope.repository.loadChain(license.licenseId, scope.transientTerms, dsi.ownerMsp);
    const balance = await scope.repository.requireBalance(license.licenseId);
    const machine = await scope.repository.requireMachine(input.machineId);
    const existing = await scope.repository.getAllocation(license.licenseId, machine.machineId);
    const result = allocateUnits(dsi, chain, balance, existing, machine, input, now);
    await scope.repository.putBalance(result.balance);
    await scope.repository.putAllocation(
      result.allocation,
      existing === null ? rightsGuards(dsi.ownerMsp, license) : undefined,
    );
    scope.emit(result.event);
    return encodeText(result.allocation);
  }

  /** `license:Revoke` — the grantor revokes a license; no build starts under it or its descendants; returns the {@link LicenseView}. */
  @Transaction()
  @Returns('string')
  public async Revoke(ctx: Context, inputJson: string): Promise<string> {
    const input = decodeRevokeLicense(parseArgument(inputJson, TX.license.revoke));
    const scope = openScope(ctx, this.#peerNow);
    const license = await scope.repository.requireLicense(input.licenseId);
    assertCanRevokeLicense(scope.actor, license);
    const current = await scope.repository.revocationOf(license.licenseId);
    const { revocation, event } = revokeLicense(
      license,
      current,
      input.reason,
      scope.actor.mspId,
      scope.now(),
    );
    const dsi = await scope.repository.requireDsi(license.dsiId);
    await scope.repository.createRevocation(revocation, rightsGuards(dsi.ownerMsp, license));
    scope.emit(event);
    const balance = await scope.repository.requireBalance(license.licenseId);
    return encodeText({ license, balance, revocation, remaining: remainingUnits(license, balance) });
  }

  /** `license:Get` — returns the {@link LicenseView}. */
  @Transaction(false)
  @Returns('string')
  public async Get(ctx: Context, inputJson: string): Promise<string> {
    const input = decodeLicenseRef(parseArgument(inputJson, TX.license.get));
    const { repository } = openScope(ctx, this.#peerNow);
    return encodeText(await viewOf(repository, await repository.requireLicense(input.licenseId)));
  }

  /**
   * `license:GetTerms` — the production terms for the grantor or holder, read from the collection when
   * confidential (evaluate on your own org's peer); returns {@link LicenseTermsView}.
   */
  @Transaction(false)
  @Returns('string')
  public async GetTerms(ctx: Context, inputJson: string): Promise<string> {
    const input = decodeLicenseRef(parseArgument(inputJson, TX.license.getTerms));
    const scope = openScope(ctx, this.#peerNow);
    const license = await scope.repository.requireLicense(input.licenseId);
    assertCanReadTerms(scope.actor, license);
    const terms =
      license.terms ??
      (await scope.repository.readConfidentialTerms(
        license,
        license.confidential?.collection ?? termsCollection(license.grantorMsp, license.holderMsp),
      ));
    const view: LicenseTermsView = { licenseId: license.licenseId, termsHash: license.termsHash, terms };
    return encodeText(view);
  }
}

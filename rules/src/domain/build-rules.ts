import {
  EVENT,
  LedgerError,
  scrapRecordSigningBytes,
  type AbortBuildInput,
  type Allocation,
  type Build,
  type CompleteBuildInput,
  type Dsi,
  type LedgerEvent,
  type Machine,
  type Part,
  type ScrapBuildInput,
  type StartBuildRequest,
} from '@threadseal/ledger-model';
import type { Actor } from './actor.js';
import { assertChainUsable, type ChainNode } from './chain.js';
import { assertMachineEligible, assertOperatorQualified, assertParametersInEnvelope } from './eligibility.js';
import { allocationAvailable, requireLeafTerms } from './license-rules.js';
import { assertMachineActive } from './machine-rules.js';
import { signedByMachine } from './request-signature.js';
import { parametersDigest as digestOfParameters } from './terms-hash.js';
import { assertNotBefore, type TxTime } from './time.js';

/**
 * Consumes one unit of a machine's allocation after checking, in this order: the license is a manufacturing
 * license held by the machine's org, the operator belongs to that org, the whole chain up to the DSI owner is
 * usable now, the machine, operator and declared parameters satisfy every readable license of the chain, and
 * a unit is left. The request's signature and nonce are checked before, by the caller.
 * @throws LedgerError MODE_NOT_PERMITTED, MACHINE_DEACTIVATED, FORBIDDEN, MACHINE_NOT_ELIGIBLE, OPERATOR_NOT_QUALIFIED,
 * PARAMETER_OUT_OF_ENVELOPE, ALLOCATION_EXHAUSTED or any chain error of {@link assertChainUsable}.
 */
export function startBuild(
  dsi: Dsi,
  chain: readonly ChainNode[],
  allocation: Allocation,
  machine: Machine,
  actor: Actor,
  request: StartBuildRequest,
  now: TxTime,
  buildId: string,
): { readonly allocation: Allocation; readonly build: Build; readonly event: LedgerEvent } {
  const leaf = chain[chain.length - 1];
  if (leaf === undefined)
    throw new LedgerError('CORRUPT_STATE', `license chain of ${request.licenseId} is empty`);
  const license = leaf.license;
  if (
    allocation.licenseId !== license.licenseId ||
    allocation.machineId !== machine.machineId ||
    request.machineId !== machine.machineId ||
    request.licenseId !== license.licenseId
  ) {
    throw new LedgerError(
      'CORRUPT_STATE',
      `allocation ${allocation.licenseId}/${allocation.machineId} does not match request ${request.licenseId}/${request.machineId}`,
    );
  }
  if (license.grant.mode !== 'manufacturing') {
    throw new LedgerError(
      'MODE_NOT_PERMITTED',
      `license ${license.licenseId} has mode ${license.grant.mode}; only manufacturing licenses produce`,
    );
  }
  assertMachineActive(machine);
  if (machine.ownerMsp !== license.holderMsp) {
    throw new LedgerError(
      'MACHINE_NOT_ELIGIBLE',
      `machine ${machine.machineId} belongs to ${machine.ownerMsp}, license ${license.licenseId} is held by ${license.holderMsp}`,
    );
  }
  if (actor.mspId !== machine.ownerMsp) {
    throw new LedgerError(
      'FORBIDDEN',
      `operator of ${actor.mspId} cannot start builds on machine ${machine.machineId} of ${machine.ownerMsp}`,
    );
  }
  assertChainUsable(dsi, chain, now);
  const leafTerms = requireLeafTerms(leaf);
  for (const node of chain) {
    if (node.terms === null) continue;
    assertMachineEligible(node.license.licenseId, node.terms, machine);
    assertOperatorQualified(node.license.licenseId, node.terms, actor);
    assertParametersInEnvelope(node.license.licenseId, node.terms, request.parameters);
  }
  const available = allocationAvailable(allocation);
  if (available <= 0) {
    throw new LedgerError(
      'ALLOCATION_EXHAUSTED',
      `allocation of license ${license.licenseId} to machine ${machine.machineId} has 0 of ${allocation.quantity} units left`,
    );
  }
  const next: Allocation = { ...allocation, consumed: allocation.consumed + 1 };
  // Under a confidential license the declared values would reveal the envelope: keep only their digest.
  const parameters = license.confidential === null ? { ...request.parameters } : null;
  // Keyed by the leaf's digest key under confidential terms: the digest on the channel cannot be brute-forced.
  const parametersDigest = digestOfParameters(request.parameters, leafTerms);
  const build: Build = {
    buildId,
    dsiId: license.dsiId,
    licenseId: license.licenseId,
    machineId: machine.machineId,
    machineOwnerMsp: machine.ownerMsp,
    operatorId: actor.id,
    nonce: request.nonce,
    parameters,
    parametersDigest,
    status: 'running',
    startedAt: now.iso,
    endedAt: null,
    partId: null,
    processRecordDigest: null,
    reason: null,
    evidenceDigest: null,
    scrapCredited: false,
  };
  return {
    allocation: next,
    build,
    event: {
      name: EVENT.buildStarted,
      payload: {
        buildId,
        dsiId: build.dsiId,
        licenseId: build.licenseId,
        machineId: build.machineId,
        operatorId: actor.id,
        nonce: request.nonce,
        parameters,
        parametersDigest,
        allocationRemaining: allocationAvailable(next),
      },
    },
  };
}

function assertRunning(build: Build, action: string): void {
  if (build.status !== 'running')
    throw new LedgerError('BUILD_NOT_RUNNING', `build ${build.buildId} is ${build.status}; cannot ${action}`);
}

const assertAfterStart = (build: Build, now: TxTime): void => {
  assertNotBefore(now, build.startedAt, `the start of build ${build.buildId}`);
};

/**
 * Records the physical part of a running build; allowed after the license was revoked (running builds finish).
 * @throws LedgerError BUILD_NOT_RUNNING, CLOCK_SKEW (a time before the build's start).
 */
export function completeBuild(
  build: Build,
  input: CompleteBuildInput,
  now: TxTime,
): { readonly build: Build; readonly part: Part; readonly event: LedgerEvent } {
  assertRunning(build, 'complete it');
  assertAfterStart(build, now);
  const done: Build = {
    ...build,
    status: 'completed',
    endedAt: now.iso,
    partId: input.partId,
    processRecordDigest: input.processRecordDigest,
  };
  const part: Part = {
    partId: input.partId,
    buildId: build.buildId,
    dsiId: build.dsiId,
    licenseId: build.licenseId,
    machineId: build.machineId,
    producerMsp: build.machineOwnerMsp,
    processRecordDigest: input.processRecordDigest,
    producedAt: now.iso,
  };
  return {
    build: done,
    part,
    event: {
      name: EVENT.buildCompleted,
      payload: {
        buildId: build.buildId,
        dsiId: build.dsiId,
        licenseId: build.licenseId,
        machineId: build.machineId,
        partId: input.partId,
        processRecordDigest: input.processRecordDigest,
      },
    },
  };
}

/**
 * Stops a running build without a part; the unit stays consumed.
 * @throws LedgerError BUILD_NOT_RUNNING, CLOCK_SKEW (a time before the build's start).
 */
export function abortBuild(
  build: Build,
  input: AbortBuildInput,
  now: TxTime,
): { readonly build: Build; readonly event: LedgerEvent } {
  assertRunning(build, 'abort it');
  assertAfterStart(build, now);
  return {
    build: { ...build, status: 'aborted', endedAt: now.iso, reason: input.reason },
    event: {
      name: EVENT.buildAborted,
      payload: {
        buildId: build.buildId,
        dsiId: build.dsiId,
        licenseId: build.licenseId,
        machineId: build.machineId,
        reason: input.reason,
      },
    },
  };
}

/**
 * A unit goes back only on the machine's own word: the scrap record (build, reason, evidence) signed by the
 * build's machine with its registered key.
 * @throws LedgerError SCRAP_EVIDENCE_REQUIRED without a signature, BAD_SIGNATURE when it does not verify.
 */
function assertScrapRecordSigned(build: Build, machine: Machine, input: ScrapBuildInput): void {
  if (machine.machineId !== build.machineId)
    throw new LedgerError('CORRUPT_STATE', `machine ${machine.machineId} did not run build ${build.buildId}`);
  const signature = input.machineSignature ?? null;
  if (signature === null)
    throw new LedgerError(
      'SCRAP_EVIDENCE_REQUIRED',
      `build ${build.buildId}: crediting a scrapped unit back requires the scrap record signed by machine ${machine.machineId}`,
    );
  if (!signedByMachine(machine, scrapRecordSigningBytes(input), signature))
    throw new LedgerError(
      'BAD_SIGNATURE',
      `build ${build.buildId}: the scrap record is not signed by the registered key of machine ${machine.machineId}`,
    );
}

/**
 * Scraps a running build (never a completed one: its part exists). With `requestCredit`, evidence and the scrap
 * record signed by the build's machine are required, and the unit goes back to the allocation only while the
 * allocation's share of the scrap allowance lasts.
 * @throws LedgerError BUILD_NOT_RUNNING, CLOCK_SKEW (a time before the build's start), SCRAP_EVIDENCE_REQUIRED,
 *   BAD_SIGNATURE, SCRAP_ALLOWANCE_EXCEEDED.
 */
export function scrapBuild(
  build: Build,
  allocation: Allocation,
  machine: Machine,
  input: ScrapBuildInput,
  now: TxTime,
): { readonly build: Build; readonly allocation: Allocation; readonly event: LedgerEvent } {
  if (build.status !== 'running') {
    throw new LedgerError(
      'BUILD_NOT_RUNNING',
      `build ${build.buildId} is ${build.status}; only a running build can be scrapped (a completed part is never scrapped for credit)`,
    );
  }
  assertAfterStart(build, now);
  if (input.requestCredit && input.evidenceDigest === null) {
    throw new LedgerError(
      'SCRAP_EVIDENCE_REQUIRED',
      `build ${build.buildId}: crediting a scrapped unit back requires an evidence digest`,
    );
  }
  if (input.requestCredit) assertScrapRecordSigned(build, machine, input);
  if (input.requestCredit && allocation.scrapCredited >= allocation.scrapAllowance) {
    throw new LedgerError(
      'SCRAP_ALLOWANCE_EXCEEDED',
      `allocation of license ${allocation.licenseId} to machine ${allocation.machineId} has credited ${allocation.scrapCredited} of ${allocation.scrapAllowance} allowed scrapped units`,
    );
  }
  const next: Allocation = input.requestCredit
    ? { ...allocation, scrapCredited: allocation.scrapCredited + 1 }
    : allocation;
  return {
    build: {
      ...build,
      status: 'scrapped',
      endedAt: now.iso,
      reason: input.reason,
      evidenceDigest: input.evidenceDigest,
      scrapCredited: input.requestCredit,
    },
    allocation: next,
    event: {
      name: EVENT.buildScrapped,
      payload: {
        buildId: build.buildId,
        dsiId: build.dsiId,
        licenseId: build.licenseId,
        machineId: build.machineId,
        reason: input.reason,
        evidenceDigest: input.evidenceDigest,
        credited: input.requestCredit,
        allocationRemaining: next.quantity - next.consumed + next.scrapCredited,
      },
    },
  };
}

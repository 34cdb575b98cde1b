import {
  EVENT,
  LedgerError,
  type Build,
  type Dsi,
  type KeyRelease,
  type LedgerEvent,
  type Machine,
  type RecordReleaseInput,
} from '@threadseal/ledger-model';
import type { Actor } from './actor.js';
import { assertChainUsable, type ChainNode } from './chain.js';
import { assertMachineActive, recipientKeyId } from './machine-rules.js';
import type { TxTime } from './time.js';

/**
 * Records the release of a DSI's content keys to the machine of one build, after checking, in this order:
 * the submitter belongs to the DSI owner, the build is still running, the machine is active, the whole
 * license chain and the DSI are usable now, and the stanza is sealed to the machine's registered recipient
 * key. So revoking a license, revoking the DSI or deactivating the machine stops every later release, and
 * a finished build never gets keys. Who may submit (the `key-release` role) is the caller's check.
 * @throws LedgerError FORBIDDEN, BUILD_NOT_RUNNING, MACHINE_DEACTIVATED, INVALID_ARGUMENT, CORRUPT_STATE or any
 * chain error of {@link assertChainUsable}.
 */
export function recordRelease(
  dsi: Dsi,
  chain: readonly ChainNode[],
  build: Build,
  machine: Machine,
  actor: Actor,
  input: RecordReleaseInput,
  now: TxTime,
): { readonly release: KeyRelease; readonly event: LedgerEvent } {
  if (actor.mspId !== dsi.ownerMsp)
    throw new LedgerError(
      'FORBIDDEN',
      `only ${dsi.ownerMsp}, the owner of DSI ${dsi.dsiId}, releases its keys; submitter is ${actor.mspId}`,
    );
  if (build.dsiId !== dsi.dsiId || build.machineId !== machine.machineId)
    throw new LedgerError('CORRUPT_STATE', `build ${build.buildId} does not match its DSI or machine`);
  if (build.status !== 'running')
    throw new LedgerError(
      'BUILD_NOT_RUNNING',
      `build ${build.buildId} is ${build.status}: keys are released only to a running build`,
    );
  assertMachineActive(machine);
  if (chain[chain.length - 1]?.license.licenseId !== build.licenseId)
    throw new LedgerError('CORRUPT_STATE', `license chain does not end at ${build.licenseId}`);
  assertChainUsable(dsi, chain, now);
  const keyId = recipientKeyId(machine);
  if (input.stanza.keyId !== keyId)
    throw new LedgerError(
      'INVALID_ARGUMENT',
      `input.stanza.keyId: expected the recipient key of machine ${machine.machineId} (${keyId}), got ${input.stanza.keyId}`,
    );
  const release: KeyRelease = {
    buildId: build.buildId,
    dsiId: dsi.dsiId,
    licenseId: build.licenseId,
    machineId: machine.machineId,
    machineOwnerMsp: machine.ownerMsp,
    stanza: { ...input.stanza },
    releasedByMsp: actor.mspId,
    releasedBy: actor.id,
    releasedAt: now.iso,
  };
  return {
    release,
    event: {
      name: EVENT.keyReleased,
      payload: {
        buildId: release.buildId,
        dsiId: release.dsiId,
        licenseId: release.licenseId,
        machineId: release.machineId,
        machineOwnerMsp: release.machineOwnerMsp,
        keyId,
        releasedByMsp: release.releasedByMsp,
      },
    },
  };
}

/**
 * Caliper workload: the licence check an edge agent runs before a build — evaluate `build:Start` with a
 * freshly signed request (machine, operator, signature and envelope checks; nothing is ordered).
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { signStartBuild } from '@threadseal/ledger-client';
import { TX } from '@threadseal/ledger-model';
import { RecordingWorkload } from './workload';

class LicenseCheckWorkload extends RecordingWorkload {
  #key: KeyObject | undefined;

  protected override prepare(): void {
    this.#key = createPrivateKey(this.round.setup.checkMachine.privateKeyPem);
  }

  async submitTransaction(): Promise<void> {
    const { setup } = this.round;
    if (!this.#key) throw new Error('licence check: no machine key');
    const signed = signStartBuild(
      {
        operator: setup.operator,
        licenseId: setup.licenseId,
        machineId: setup.checkMachine.id,
        parameters: setup.parameters,
      },
      this.#key,
    );
    await this.send('check', TX.build.start, [JSON.stringify(signed)], {
      identity: setup.identities.operator,
      readOnly: true,
    });
  }
}

/** The factory Caliper calls for each round. */
export function createWorkloadModule(): RecordingWorkload {
  return new LicenseCheckWorkload();
}

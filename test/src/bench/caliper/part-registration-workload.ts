/**
 * Caliper workload: part registration — a machine-signed `build:Start` (consumes one unit of the machine's
 * allocation) followed by `build:Complete` with the part id. Each transaction in flight holds one machine
 * of this worker's share of the fleet, so no two concurrent Starts write the same allocation key.
 */
import { createHash, createPrivateKey, type KeyObject } from 'node:crypto';
import { signStartBuild } from '@threadseal/ledger-client';
import { TX, type Build, type CompleteBuildInput } from '@threadseal/ledger-model';
import { RecordingWorkload } from './workload';

interface Machine {
  readonly id: string;
  readonly key: KeyObject;
}

class PartRegistrationWorkload extends RecordingWorkload {
  #idle: Machine[] = [];
  /** Transactions waiting for a machine (only while Caliper's fixed-load controller ramps up). */
  readonly #waiting: ((m: Machine) => void)[] = [];
  #parts = 0;

  protected override prepare(): void {
    const { setup, workerIndex, totalWorkers } = this.round;
    this.#idle = setup.fleet
      .filter((_, i) => i % totalWorkers === workerIndex)
      .map((m) => ({ id: m.id, key: createPrivateKey(m.privateKeyPem) }));
  }

  async submitTransaction(): Promise<void> {
    // Before its first transaction finishes, the fixed-load controller sends at `startTps` without a cap,
    // so more transactions than machines can arrive at first: they wait for one (never share one).
    const machine =
      this.#idle.pop() ?? (await new Promise<Machine>((resolve) => this.#waiting.push(resolve)));
    try {
      await this.#registerPart(machine);
    } finally {
      const next = this.#waiting.shift();
      if (next) next(machine);
      else this.#idle.push(machine);
    }
  }

  async #registerPart(machine: Machine): Promise<void> {
    const { setup, args, workerIndex } = this.round;
    const signed = signStartBuild(
      {
        operator: setup.operator,
        licenseId: setup.licenseId,
        machineId: machine.id,
        parameters: setup.parameters,
      },
      machine.key,
    );
    const options = { identity: setup.identities.operator, readOnly: false };
    const started = await this.send('start', TX.build.start, [JSON.stringify(signed)], options);
    if (!started) return;
    const build = JSON.parse(Buffer.from(started.GetResult() as Uint8Array).toString('utf8')) as Build;
    const partId = `P-${setup.run}-${args.label}-w${workerIndex}-${this.#parts++}`;
    const complete: CompleteBuildInput = {
      buildId: build.buildId,
      partId,
      processRecordDigest: createHash('sha256').update(`process record of ${partId}`).digest('hex'),
    };
    await this.send('complete', TX.build.complete, [JSON.stringify(complete)], options);
  }
}

/** The factory Caliper calls for each round. */
export function createWorkloadModule(): RecordingWorkload {
  return new PartRegistrationWorkload();
}

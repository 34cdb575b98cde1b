/** Caliper workload: one-key writes (`system:PutNote`), each to a fresh key, as the ledger bench writes them. */
import { TX } from '@threadseal/ledger-model';
import { RecordingWorkload } from './workload';

class PutNoteWorkload extends RecordingWorkload {
  #sent = 0;

  async submitTransaction(): Promise<void> {
    const { setup, args, workerIndex } = this.round;
    const key = `${setup.run}-${args.label}-w${workerIndex}-${this.#sent++}`;
    await this.send('note', TX.system.putNote, [key, 'x'], {
      identity: setup.identities.writer,
      readOnly: false,
    });
  }
}

/** The factory Caliper calls for each round. */
export function createWorkloadModule(): RecordingWorkload {
  return new PutNoteWorkload();
}

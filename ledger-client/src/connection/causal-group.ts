/**
 * Connections that see each other's commits: once any connection of the group has seen a transaction
 * committed in block n, every connection of the group waits for its own peer to hold block n before it
 * endorses or evaluates. Peers of different orgs commit a block at slightly different moments; without the
 * group, one org's call could read older state than a commit another org's connection has already reported
 * (causal consistency). Create one group per network and pass it to every connection that should share it;
 * connections without a group never wait.
 */
export class CausalGroup {
  #newest: bigint | undefined;

  /** The newest block a connection of the group has seen a transaction commit in, if any. */
  get newestCommittedBlock(): bigint | undefined {
    return this.#newest;
  }

  /** Records that a transaction committed in `blockNumber`; older blocks leave the mark unchanged. */
  observeCommit(blockNumber: bigint): void {
    if (this.#newest === undefined || blockNumber > this.#newest) this.#newest = blockNumber;
  }
}

import { join } from 'node:path';
import type { KeyObject, X509Certificate } from 'node:crypto';
import { openLedgerClient, type CausalGroup } from '@threadseal/ledger-client';
import { directoryDsiStore } from './dsi-store';
import { openDevelopmentToken } from './development-token';
import { KeyReleaseService, type ReleaseDecision, type ReleaseLogEntry } from './key-release-service';

/** A key-release service running in this process on a throw-away SoftHSM2 token (the demo, the tests). */
export interface RunningKeyRelease {
  /** The service's unwrap key: seal DSIs to it. */
  readonly recipientPublicKey: KeyObject;
  /** Every decision so far, in commit order. */
  readonly decisions: readonly ReleaseDecision[];
  /** Stops following events, closes the ledger client and deletes the token. */
  stop(): Promise<void>;
}

export interface DevelopmentKeyReleaseOptions {
  /** The Fabric common connection profile (`connection.json` of the network tool). */
  readonly profileFile: string;
  /** The owner org and its `key-release` user. */
  readonly org: string;
  readonly user: string;
  /** Where the owner keeps its containers (`<dsiId>.dsi`). */
  readonly storeDir: string;
  /** A private folder for the token and the checkpoint. */
  readonly workDir: string;
  readonly trustedRoots: readonly (string | Buffer | X509Certificate)[];
  readonly causal?: CausalGroup;
  readonly log?: (entry: ReleaseLogEntry) => void;
}

/**
 * Starts a key-release service for development: its unwrap key is generated in a new SoftHSM2 token, it
 * follows events from the peer's current height, and it stops with the returned handle. A production service
 * runs on the owner's host with its officer's token and a checkpoint that outlives the process.
 * @throws ThreadsealError TOKEN_ERROR without SoftHSM2; a ledger error when the peer cannot be reached.
 */
export async function startDevelopmentKeyRelease(
  options: DevelopmentKeyReleaseOptions,
): Promise<RunningKeyRelease> {
  const token = openDevelopmentToken(options.workDir);
  const client = openLedgerClient(
    options.profileFile,
    { org: options.org, user: options.user },
    options.causal ? { causal: options.causal } : {},
  );
  try {
    const unwrapKey = token.token.recipientKey(token.keyLabel);
    const service = new KeyReleaseService({
      client,
      unwrapKey,
      containers: directoryDsiStore(options.storeDir),
      trustedRoots: options.trustedRoots,
      checkpointFile: join(token.dir, 'release.checkpoint'),
      startBlock: await client.connection.peerHeight(),
      ...(options.log ? { log: options.log } : {}),
    });
    const decisions: ReleaseDecision[] = [];
    const running = service.run((d) => decisions.push(d));
    // A failure of the event stream is kept for stop(), which reports it; the caller's waits time out first.
    let failure: Error | undefined;
    running.catch((err: unknown) => {
      failure = err instanceof Error ? err : new Error(String(err));
    });
    return {
      recipientPublicKey: unwrapKey.publicKey,
      decisions,
      stop: async () => {
        service.stop();
        await running.catch(() => undefined);
        client.close();
        token.close();
        if (failure !== undefined) throw failure;
      },
    };
  } catch (err) {
    client.close();
    token.close();
    throw err;
  }
}

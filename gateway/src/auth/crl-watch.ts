import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { RevocationList } from './revocation-list';

/** What a watcher reports. */
export interface CrlWatchHandlers {
  /** A changed file parsed and verified: `text` is the PEM, to hand to the TLS context too. */
  readonly loaded: (list: RevocationList, text: string) => void;
  /** A changed file that does not parse or verify: the previous list stays. */
  readonly refused: (err: unknown) => void;
}

/**
 * Watches the org CA's CRL file (polled every `intervalMs`) and reports each new version once it parsed and its
 * signature verified with `caCertificatePem`'s key; returns the function that stops watching.
 */
export function watchRevocationList(
  file: string,
  caCertificatePem: string,
  handlers: CrlWatchHandlers,
  intervalMs = 1_000,
): () => void {
  const changed = (): void => {
    let text: string;
    let list: RevocationList;
    try {
      text = readFileSync(file, 'utf8');
      list = RevocationList.parse(text, caCertificatePem);
    } catch (err) {
      handlers.refused(err);
      return;
    }
    handlers.loaded(list, text);
  };
  watchFile(file, { interval: intervalMs }, changed);
  return () => {
    unwatchFile(file, changed);
  };
}

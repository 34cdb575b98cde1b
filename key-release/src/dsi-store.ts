import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ContainerSource } from '@threadseal/dsi-container';

/** Where the key-release service finds the containers of the DSIs its org owns. */
export interface DsiStore {
  /** The container of `dsiId`, or undefined when this store does not hold it. */
  get(dsiId: string): Promise<ContainerSource | undefined>;
}

const DSI_ID = /^[0-9a-f]{64}$/;

/** A folder of containers named `<dsiId>.dsi` (what the owner keeps; ciphertext only). */
export function directoryDsiStore(dir: string): DsiStore {
  return {
    get: (dsiId) => {
      if (!DSI_ID.test(dsiId)) return Promise.resolve(undefined);
      const file = join(dir, `${dsiId}.dsi`);
      return Promise.resolve(existsSync(file) ? file : undefined);
    },
  };
}

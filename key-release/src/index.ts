/**
 * The IP owner's key-release service (docs/decisions/0008-machine-identity-and-key-release.md): content keys
 * reach a machine only for a build whose StartBuild committed VALID, sealed to that machine, bound to that
 * build, and recorded on the ledger.
 */
export { directoryDsiStore, type DsiStore } from './dsi-store';
export {
  KeyReleaseService,
  type KeyReleaseOptions,
  type ReleaseDecision,
  type ReleaseLogEntry,
} from './key-release-service';
export { openDevelopmentToken, SOFTHSM_LIBRARY, type DevelopmentToken } from './development-token';
export {
  startDevelopmentKeyRelease,
  type DevelopmentKeyReleaseOptions,
  type RunningKeyRelease,
} from './development-service';

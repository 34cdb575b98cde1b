/**
 * The ledger's rules without Fabric: the decoders and validators of every transaction input, the pure
 * domain rules the chaincode applies (narrowing, eligibility, the parameter envelope, license chains,
 * request signatures, quantities) and JSON Schemas of the DTOs. The chaincode runs them on the peers; a
 * machine agent, the REST service or an auditor can run the same checks before or after they call it.
 */
export { qualificationsOf, type Actor } from './domain/actor.js';
export { abortBuild, completeBuild, scrapBuild, startBuild } from './domain/build-rules.js';
export { assertChainUsable, assertLicenseUsable, type ChainNode } from './domain/chain.js';
export { verifyDsiRegistration, type Submitter, type VerifiedDsiManifest } from './domain/dsi-authorship.js';
export { registerDsi, revokeDsi, supersedeDsi } from './domain/dsi-rules.js';
export { assertNotSelfIssue, rightsGuards } from './domain/guards.js';
export {
  assertMachineEligible,
  assertOperatorQualified,
  assertParametersInEnvelope,
  envelopeViolations,
  type EnvelopeViolation,
} from './domain/eligibility.js';
export {
  allocateUnits,
  allocationAvailable,
  issueLicense,
  remainingUnits,
  requireLeafTerms,
  revokeLicense,
  splitLicense,
  type NewLicense,
  type TermsPlacement,
} from './domain/license-rules.js';
export {
  assertMachineActive,
  deactivateMachine,
  recipientKeyId,
  registerMachine,
  rotateMachineKeys,
} from './domain/machine-rules.js';
export { recordRelease } from './domain/release-rules.js';
export { assertNarrows, modeRank, narrowingViolations, type GrantAndTerms } from './domain/narrowing.js';
export {
  REQUEST_FRESHNESS_MS,
  assertOperatorIsSubmitter,
  assertRequestAuthentic,
} from './domain/request-signature.js';
export { canonicalDigest, parametersDigest, termsHash } from './domain/terms-hash.js';
export { instant, isCanonicalInstant, txTime, type TxTime } from './domain/time.js';
export {
  decodeAbortBuild,
  decodeAllocate,
  decodeAllocationRef,
  decodeBuildNonceRef,
  decodeBuildRef,
  decodeCompleteBuild,
  decodeDeactivateMachine,
  decodeRotateMachineKeys,
  decodeDsiRef,
  decodeIssueLicense,
  decodeLicenseRef,
  decodeMachineRef,
  decodeParameterEnvelope,
  decodePartRef,
  decodeProductionTerms,
  decodeRecordRelease,
  decodeRegisterDsi,
  decodeRegisterMachine,
  decodeReleaseRef,
  decodeRevokeDsi,
  decodeRevokeLicense,
  decodeScrapBuild,
  decodeSplitLicense,
  decodeStartBuild,
  decodeSupersedeDsi,
  parseArgument,
} from './inputs/decoders.js';
export { DTO_EXAMPLES } from './schemas/dto-examples.js';
export { DTO_SCHEMAS, INPUT_SCHEMAS, OUTPUT_SCHEMAS, type DtoSchemaName } from './schemas/dto-schemas.js';

/**
 * The G-code verifier: reads a program (RS274/NGC as LinuxCNC runs it, FFF firmware G-code, SINUMERIK
 * basics) in constant memory, extracts every constrained value with its modal state, and checks each
 * against the licence's parameter envelope with the chaincode's own rule. A value it cannot determine
 * rejects the program with line and reason; it never passes one (docs/gcode-verification.md).
 */
export { DIALECTS, type Dialect, type ObservedValue, type Observer } from './dialect.js';
export { declarationOf, declareProgram } from './verdict/declaration.js';
export { startBuildParameters } from './verdict/summary.js';
export {
  REJECTION_CODES,
  type AcceptedProgram,
  type ParameterSummary,
  type ProgramVerdict,
  type RejectedProgram,
  type RejectionCode,
} from './verdict/verdict.js';
export { VOCABULARY, isVocabularyName, type VocabularyName } from './verdict/vocabulary.js';
export {
  MAX_LINE_BYTES,
  createVerifier,
  verifyProgram,
  type ProgramSource,
  type ProgramVerifier,
  type VerifyOptions,
} from './verifier.js';

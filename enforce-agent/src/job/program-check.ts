import { createVerifier, type AcceptedProgram, type ProgramVerdict } from '@threadseal/gcode';
import { parseDeclaredNumber, type ParameterBound, type ProcessDeclaration } from '@threadseal/ledger-model';
import type { MachineAgent } from './job-types.js';
import { JobRefusal } from './preflight.js';

/** Checks a decrypted program as its bytes arrive; `end()` gives the verdict over all of them. */
export interface DecryptedProgramCheck {
  /** Feeds the next bytes of the program (they are read during the call, not kept). */
  write(chunk: Uint8Array): void;
  /**
   * Ends the program and returns the verifier's verdict.
   * @throws JobRefusal PROGRAM_REJECTED (line and reason) or PROGRAM_MISMATCH
   */
  end(): AcceptedProgram;
}

/**
 * Starts the check of a decrypted program, in memory, before a byte of it reaches the controller: the G-code
 * verifier (the chaincode's envelope rule for every value, with modal state) must accept it under the whole
 * readable envelope, and what it finds must lie within what the owner declared and signed — the declaration
 * the StartBuild request was made from. The bytes can be fed while later ones are still being decrypted.
 */
export function startDecryptedProgramCheck(
  name: string,
  machine: MachineAgent,
  envelope: readonly ParameterBound[],
  declaration: ProcessDeclaration,
): DecryptedProgramCheck {
  const verifier = createVerifier({
    dialect: machine.dialect,
    envelope,
    ...(machine.preamble !== undefined ? { preamble: machine.preamble } : {}),
  });
  return {
    write: (chunk) => {
      // After a rejection the verifier reads nothing more; end() reports it.
      verifier.write(chunk);
    },
    end: () => withinDeclaration(verifier.end(), name, declaration),
  };
}

function withinDeclaration(
  verdict: ProgramVerdict,
  name: string,
  declaration: ProcessDeclaration,
): AcceptedProgram {
  if (!verdict.accepted)
    throw new JobRefusal('PROGRAM_REJECTED', `${name}:${verdict.line}: ${verdict.code}: ${verdict.reason}`);
  const names = new Set([...Object.keys(verdict.parameters), ...Object.keys(declaration.parameters)]);
  for (const parameter of names) {
    const found = verdict.parameters[parameter];
    const range = declaration.parameters[parameter];
    const min = range ? parseDeclaredNumber(range.min) : undefined;
    const max = range ? parseDeclaredNumber(range.max) : undefined;
    if (!found || min === undefined || max === undefined || found.min < min || found.max > max)
      throw new JobRefusal(
        'PROGRAM_MISMATCH',
        `${name}: ${parameter} is ${found ? `${found.min}..${found.max}` : 'never set'} in the program, declared ${range ? `${range.min}..${range.max}` : 'not at all'}`,
      );
  }
  return verdict;
}

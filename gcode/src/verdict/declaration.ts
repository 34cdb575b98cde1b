import { declaredNumber, type ProcessDeclaration } from '@threadseal/ledger-model';
import type { Dialect } from '../dialect.js';
import { createVerifier } from '../verifier.js';
import type { AcceptedProgram, RejectedProgram } from './verdict.js';

/** The declaration of an accepted program: its dialect and each parameter's range, as the manifest holds it. */
export function declarationOf(verdict: AcceptedProgram, dialect: Dialect): ProcessDeclaration {
  const parameters: Record<string, { min: string; max: string }> = {};
  for (const [name, summary] of Object.entries(verdict.parameters))
    parameters[name] = { min: declaredNumber(summary.min), max: declaredNumber(summary.max) };
  return { dialect, parameters };
}

/**
 * What the owner signs into a DSI's manifest for one program at protect time: everything the verifier extracts
 * from it, under no envelope (the licences come later). A program the verifier cannot read has no declaration.
 */
export function declareProgram(
  program: Uint8Array,
  dialect: Dialect,
): { readonly declaration: ProcessDeclaration } | { readonly rejected: RejectedProgram } {
  const verifier = createVerifier({ dialect, envelope: [] });
  verifier.write(program);
  const verdict = verifier.end();
  return verdict.accepted ? { declaration: declarationOf(verdict, dialect) } : { rejected: verdict };
}

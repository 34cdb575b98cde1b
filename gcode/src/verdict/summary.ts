import type { ParameterBound, ParameterValue } from '@threadseal/ledger-model';
import type { AcceptedProgram } from './verdict.js';

/**
 * The parameters an agent declares in its StartBuild request for an accepted program: for each envelope
 * entry the program sets, the value the chaincode checks — the largest observed value for a range (the
 * program was checked value by value already; the maximum is the figure a licensor cares about and the one
 * that fails first if the envelope narrows), the single observed value for an exact bound. Envelope entries
 * the program does not set are left out: declaring them is the caller's business (`material`…).
 */
export function startBuildParameters(
  verdict: AcceptedProgram,
  envelope: readonly ParameterBound[],
): Record<string, ParameterValue> {
  const out: Record<string, ParameterValue> = {};
  for (const bound of envelope) {
    const summary = verdict.parameters[bound.name];
    if (summary === undefined) continue;
    out[bound.name] = summary.max;
  }
  return out;
}

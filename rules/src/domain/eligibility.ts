import {
  LedgerError,
  ROLE,
  type Machine,
  type ParameterBound,
  type ParameterValue,
  type ProductionTerms,
} from '@threadseal/ledger-model';
import type { Actor } from './actor.js';

/**
 * Asserts that a machine satisfies one license's machine constraints.
 * @throws LedgerError MACHINE_NOT_ELIGIBLE naming the machine, license and the failed constraint.
 */
export function assertMachineEligible(licenseId: string, terms: ProductionTerms, machine: Machine): void {
  const fail = (what: string): never => {
    throw new LedgerError(
      'MACHINE_NOT_ELIGIBLE',
      `machine ${machine.machineId} does not satisfy license ${licenseId}: ${what}`,
    );
  };
  const { makes, models, serials, requiredCertifications } = terms.machines;
  if (makes.length > 0 && !makes.includes(machine.make))
    fail(`make ${machine.make} not in [${makes.join(', ')}]`);
  if (models.length > 0 && !models.includes(machine.model))
    fail(`model ${machine.model} not in [${models.join(', ')}]`);
  if (serials.length > 0 && !serials.includes(machine.serial))
    fail(`serial ${machine.serial} not in [${serials.join(', ')}]`);
  const missing = requiredCertifications.filter((cert) => !machine.certifications.includes(cert));
  if (missing.length > 0) fail(`missing certifications [${missing.join(', ')}]`);
}

/**
 * Asserts that the operator's CA attributes meet one license's operator requirements; a license that
 * names no roles requires the role `operator`.
 * @throws LedgerError OPERATOR_NOT_QUALIFIED naming the license and what is missing.
 */
export function assertOperatorQualified(licenseId: string, terms: ProductionTerms, actor: Actor): void {
  const roles = terms.operators.roles.length > 0 ? terms.operators.roles : [ROLE.operator];
  if (actor.role === null || !roles.includes(actor.role)) {
    throw new LedgerError(
      'OPERATOR_NOT_QUALIFIED',
      `license ${licenseId} requires role one of [${roles.join(', ')}], operator has ${actor.role ?? 'no role'}`,
    );
  }
  const missing = terms.operators.qualifications.filter((q) => !actor.qualifications.includes(q));
  if (missing.length > 0) {
    throw new LedgerError(
      'OPERATOR_NOT_QUALIFIED',
      `license ${licenseId} requires qualifications [${missing.join(', ')}] the operator lacks`,
    );
  }
}

/** One way a program's parameters break a licence's envelope. */
export interface EnvelopeViolation {
  /** The envelope parameter that is not met. */
  readonly parameter: string;
  /** What the bound requires, e.g. `in [200, 400] W` or `= "Ti-6Al-4V"`. */
  readonly expected: string;
  /** The value the program declared, `undefined` when it declares none. */
  readonly found: ParameterValue | undefined;
}

/**
 * Checks a program's parameters against a licence's envelope, in envelope order, without throwing: what a
 * machine agent runs before it asks for a unit, and what the chaincode runs before it consumes one.
 * Parameters the envelope does not name are not checked.
 */
export function envelopeViolations(
  envelope: readonly ParameterBound[],
  parameters: Readonly<Record<string, ParameterValue>>,
): EnvelopeViolation[] {
  const violations: EnvelopeViolation[] = [];
  for (const bound of envelope) {
    const found = Object.prototype.hasOwnProperty.call(parameters, bound.name)
      ? parameters[bound.name]
      : undefined;
    const violation = (expected: string): EnvelopeViolation => ({ parameter: bound.name, expected, found });
    if (bound.kind === 'exact') {
      if (found !== bound.value)
        violations.push(violation(`= ${JSON.stringify(bound.value)} ${bound.unit}`.trimEnd()));
    } else if (typeof found !== 'number' || found < bound.min || found > bound.max) {
      violations.push(violation(`in [${bound.min}, ${bound.max}] ${bound.unit}`.trimEnd()));
    }
  }
  return violations;
}

/**
 * Asserts that the parameters a machine declared fit every bound of one license's envelope.
 * @throws LedgerError PARAMETER_OUT_OF_ENVELOPE naming the first parameter out of bounds, the bound and the value.
 */
export function assertParametersInEnvelope(
  licenseId: string,
  terms: ProductionTerms,
  parameters: Readonly<Record<string, ParameterValue>>,
): void {
  const [first] = envelopeViolations(terms.envelope, parameters);
  if (first === undefined) return;
  throw new LedgerError(
    'PARAMETER_OUT_OF_ENVELOPE',
    `license ${licenseId} requires ${first.parameter} ${first.expected}, request has ${first.found === undefined ? 'none' : JSON.stringify(first.found)}`,
  );
}

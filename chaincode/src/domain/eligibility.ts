import {
  LedgerError,
  ROLE,
  type Machine,
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

/**
 * Asserts that the parameters a machine declared fit every bound of one license's envelope.
 * @throws LedgerError PARAMETER_OUT_OF_ENVELOPE naming the parameter, the bound and the value.
 */
export function assertParametersInEnvelope(
  licenseId: string,
  terms: ProductionTerms,
  parameters: Readonly<Record<string, ParameterValue>>,
): void {
  for (const bound of terms.envelope) {
    const value = Object.prototype.hasOwnProperty.call(parameters, bound.name)
      ? parameters[bound.name]
      : undefined;
    const fail = (expected: string): never => {
      throw new LedgerError(
        'PARAMETER_OUT_OF_ENVELOPE',
        `license ${licenseId} requires ${bound.name} ${expected}, request has ${value === undefined ? 'none' : JSON.stringify(value)}`,
      );
    };
    if (bound.kind === 'exact') {
      if (value !== bound.value) fail(`= ${JSON.stringify(bound.value)} ${bound.unit}`.trimEnd());
    } else if (typeof value !== 'number' || value < bound.min || value > bound.max) {
      fail(`in [${bound.min}, ${bound.max}] ${bound.unit}`.trimEnd());
    }
  }
}

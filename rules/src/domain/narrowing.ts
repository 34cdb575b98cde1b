import {
  LICENSE_MODES,
  LedgerError,
  ROLE,
  type LicenseGrant,
  type LicenseMode,
  type ParameterBound,
  type ProductionTerms,
} from '@threadseal/ledger-model';
import { instant } from './time.js';

/** The position of a mode in {@link LICENSE_MODES}; a higher rank is a wider mode. */
export function modeRank(mode: LicenseMode): number {
  return LICENSE_MODES.indexOf(mode);
}

/** A license's grant and production terms, the two things a sub-license narrows. */
export interface GrantAndTerms {
  readonly grant: LicenseGrant;
  readonly terms: ProductionTerms;
}

const isSubset = (child: readonly string[], parent: readonly string[]): boolean =>
  child.every((item) => parent.includes(item));

/** "Empty means any" lists: a constrained parent needs a constrained child that picks among its entries. */
function anyListViolation(label: string, child: readonly string[], parent: readonly string[]): string[] {
  if (parent.length === 0) return [];
  if (child.length === 0) return [`${label} must be a non-empty subset of [${parent.join(', ')}], got any`];
  const extra = child.filter((item) => !parent.includes(item));
  return extra.length === 0
    ? []
    : [`${label} [${extra.join(', ')}] not allowed by parent [${parent.join(', ')}]`];
}

/** A license naming no operator roles requires the role `operator` (see eligibility). */
const effectiveRoles = (roles: readonly string[]): readonly string[] =>
  roles.length > 0 ? roles : [ROLE.operator];

function roleViolation(child: readonly string[], parent: readonly string[]): string[] {
  const allowed = effectiveRoles(parent);
  const extra = effectiveRoles(child).filter((role) => !allowed.includes(role));
  return extra.length === 0
    ? []
    : [`operator roles [${extra.join(', ')}] not allowed by parent [${allowed.join(', ')}]`];
}

/** "Must hold all of" lists: the child must require at least what the parent requires. */
function allOfViolation(label: string, child: readonly string[], parent: readonly string[]): string[] {
  const missing = parent.filter((item) => !child.includes(item));
  return missing.length === 0 ? [] : [`${label} must include [${missing.join(', ')}]`];
}

function parameterViolation(parent: ParameterBound, child: ParameterBound | undefined): string[] {
  const label = `parameter ${parent.name}`;
  if (child === undefined) return [`${label} is missing`];
  if (child.unit !== parent.unit) return [`${label} unit must be ${parent.unit}, got ${child.unit}`];
  if (parent.kind === 'exact') {
    return child.kind === 'exact' && child.value === parent.value
      ? []
      : [`${label} must stay exactly ${String(parent.value)}`];
  }
  if (child.kind === 'exact') {
    return typeof child.value === 'number' && child.value >= parent.min && child.value <= parent.max
      ? []
      : [`${label} value ${String(child.value)} outside parent range [${parent.min}, ${parent.max}]`];
  }
  return child.min >= parent.min && child.max <= parent.max
    ? []
    : [`${label} range [${child.min}, ${child.max}] not within parent range [${parent.min}, ${parent.max}]`];
}

/**
 * Lists every way `child` is wider than `parent`; an empty list means the child only narrows.
 * Quantity is not checked here (it is bounded by the parent's remaining units, not its grant).
 */
export function narrowingViolations(parent: GrantAndTerms, child: GrantAndTerms): string[] {
  const violations: string[] = [];
  const p = parent.grant;
  const c = child.grant;
  if (modeRank(c.mode) > modeRank(p.mode))
    violations.push(`mode ${c.mode} is wider than parent mode ${p.mode}`);
  if (instant(c.validFrom) < instant(p.validFrom))
    violations.push(`validFrom ${c.validFrom} is before parent validFrom ${p.validFrom}`);
  if (instant(c.validUntil) > instant(p.validUntil))
    violations.push(`validUntil ${c.validUntil} is after parent validUntil ${p.validUntil}`);
  if (c.maySublicense && !p.maySublicense) violations.push('maySublicense is not allowed by parent');
  if (c.scrapAllowance > p.scrapAllowance)
    violations.push(`scrapAllowance ${c.scrapAllowance} exceeds parent scrapAllowance ${p.scrapAllowance}`);
  const pt = parent.terms;
  const ct = child.terms;
  violations.push(
    ...anyListViolation('machine makes', ct.machines.makes, pt.machines.makes),
    ...anyListViolation('machine models', ct.machines.models, pt.machines.models),
    ...anyListViolation('machine serials', ct.machines.serials, pt.machines.serials),
    ...allOfViolation(
      'required certifications',
      ct.machines.requiredCertifications,
      pt.machines.requiredCertifications,
    ),
    ...roleViolation(ct.operators.roles, pt.operators.roles),
    ...allOfViolation('operator qualifications', ct.operators.qualifications, pt.operators.qualifications),
  );
  if (!isSubset(ct.workstations, pt.workstations))
    violations.push(`workstations must be a subset of [${pt.workstations.join(', ')}]`);
  for (const bound of pt.envelope)
    violations.push(
      ...parameterViolation(
        bound,
        ct.envelope.find((candidate) => candidate.name === bound.name),
      ),
    );
  return violations;
}

/**
 * Asserts that `child` only narrows `parent`.
 * @throws LedgerError NARROWING_VIOLATION naming the child license and every violation.
 */
export function assertNarrows(
  childId: string,
  parentId: string,
  parent: GrantAndTerms,
  child: GrantAndTerms,
): void {
  const violations = narrowingViolations(parent, child);
  if (violations.length > 0) {
    throw new LedgerError(
      'NARROWING_VIOLATION',
      `sub-license ${childId} widens parent ${parentId}: ${violations.join('; ')}`,
    );
  }
}

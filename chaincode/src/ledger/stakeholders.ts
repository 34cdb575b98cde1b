import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LedgerError } from '@threadseal/ledger-model';

/**
 * The channel's stakeholders: the orgs whose peers the chaincode-level endorsement policy requires for every
 * new key, read once from the chaincode's own `deployment.json` (part of the package, so of its label — every
 * honest peer runs with the same list). Records outside a licence tree (DSIs, machines, notes) are guarded by
 * their owner and these orgs. A package without the list refuses to write such records (fails closed).
 */
export interface DeploymentPolicy {
  readonly signaturePolicy: string;
  readonly stakeholders: readonly string[];
}

let cached: DeploymentPolicy | undefined;

function parse(text: string, file: string): DeploymentPolicy {
  const parsed = JSON.parse(text) as { signaturePolicy?: unknown; stakeholders?: unknown };
  const { signaturePolicy, stakeholders } = parsed;
  if (
    typeof signaturePolicy !== 'string' ||
    !Array.isArray(stakeholders) ||
    stakeholders.length === 0 ||
    !stakeholders.every((s): s is string => typeof s === 'string' && s.length > 0)
  )
    throw new LedgerError(
      'CORRUPT_STATE',
      `${file}: expected {"signaturePolicy": "...", "stakeholders": ["<MSP id>", ...]}`,
    );
  for (const msp of stakeholders)
    if (!signaturePolicy.includes(`'${msp}.peer'`))
      throw new LedgerError(
        'CORRUPT_STATE',
        `${file}: stakeholder ${msp} is not named in the signature policy`,
      );
  return { signaturePolicy, stakeholders: [...stakeholders].sort() };
}

/** The deployment policy of this chaincode package (`<package>/deployment.json`). @throws LedgerError CORRUPT_STATE. */
export function deploymentPolicy(): DeploymentPolicy {
  if (cached === undefined) {
    // Built to dist/ledger (or dist-test/ledger for tests): the package root is two levels up.
    const file = join(__dirname, '..', '..', 'deployment.json');
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      throw new LedgerError(
        'CORRUPT_STATE',
        `${file} is missing: the chaincode cannot tell its stakeholders`,
      );
    }
    cached = parse(text, file);
  }
  return cached;
}

/** The owner of a record outside a licence tree and the channel's stakeholders, each once, sorted. */
export function ownerGuards(ownerMsp: string): string[] {
  return [...new Set([ownerMsp, ...deploymentPolicy().stakeholders])].sort();
}

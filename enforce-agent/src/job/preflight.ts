import { inspect, verify, type ManifestFile } from '@threadseal/dsi-container';
import type { ThreadsealLedger } from '@threadseal/ledger-client';
import {
  LedgerError,
  parseDeclaredNumber,
  ThreadsealError,
  type Allocation,
  type Dsi,
  type Machine,
  type ParameterBound,
  type ParameterValue,
} from '@threadseal/ledger-model';
import {
  allocationAvailable,
  assertChainUsable,
  assertMachineActive,
  assertMachineEligible,
  assertOperatorQualified,
  assertParametersInEnvelope,
  envelopeViolations,
  qualificationsOf,
  txTime,
  type Actor,
  type ChainNode,
} from '@threadseal/rules';
import type { MachineFacts } from '../controllers/controller.js';
import type { JobContext, JobRequest, JobStep } from './job-types.js';

/** What the checks before StartBuild established; everything the rest of the job needs. */
export interface Preflight {
  readonly dsi: Dsi;
  readonly chain: readonly ChainNode[];
  /** Every bound of every license of the chain whose terms this org can read. */
  readonly envelope: readonly ParameterBound[];
  readonly machine: Machine;
  /** The program's manifest entry, with its signed declaration. */
  readonly program: ManifestFile & { readonly process: NonNullable<ManifestFile['process']> };
  /** What the StartBuild request declares: the declared maxima and the job's setup values. */
  readonly parameters: Readonly<Record<string, ParameterValue>>;
  /** Whether the leaf license's terms are confidential (its StartBuild then travels in the transient map). */
  readonly confidential: boolean;
}

/** Overrides every job starts at, in percent. */
const START_OVERRIDES: Readonly<Record<string, number>> = { feedOverride: 100, spindleOverride: 100 };

/** A refusal by the agent's own checks: nothing was submitted. */
export class JobRefusal extends ThreadsealError {
  override readonly name = 'JobRefusal';
}

const sameSet = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && [...a].sort().every((x, i) => x === [...b].sort()[i]);

/** The controller must report exactly the machine the ledger has under this id. */
function assertSameMachine(machine: Machine, facts: MachineFacts): void {
  const differences = (['make', 'model', 'serial', 'firmware'] as const)
    .filter((k) => machine[k] !== facts[k])
    .map(
      (k) => `${k}: controller reports ${JSON.stringify(facts[k])}, registered ${JSON.stringify(machine[k])}`,
    );
  if (!sameSet(machine.certifications, facts.certifications))
    differences.push(
      `certifications: controller reports ${JSON.stringify(facts.certifications)}, registered ${JSON.stringify(machine.certifications)}`,
    );
  if (differences.length > 0)
    throw new JobRefusal('MACHINE_MISMATCH', `machine ${machine.machineId}: ${differences.join('; ')}`);
}

/** The operator logged in at the machine, as the chaincode will see it. */
async function operatorActor(ledger: ThreadsealLedger): Promise<Actor> {
  const raw = await ledger.client.connection.evaluate('system:WhoAmI');
  const who = JSON.parse(Buffer.from(raw).toString('utf8')) as {
    mspId: string;
    id: string;
    attributes: Record<string, string | null>;
  };
  return {
    mspId: who.mspId,
    id: who.id,
    role: who.attributes['role'] ?? null,
    qualifications: qualificationsOf(who.attributes['qualification'] ?? null),
  };
}

/**
 * Every check that comes before a unit is asked for, in this order, each failing closed: the container
 * verifies and is signed by the DSI's registered owner, the DSI is registered and active; the license chain is
 * usable and the machine's allocation has a unit left; the controller reports the registered machine, which is
 * active and eligible; the logged-in operator belongs to the machine's org and is qualified; the program's
 * signed declaration fits every readable envelope (the chaincode's own rules throughout).
 * @throws JobRefusal, LedgerError (a rule's refusal with its code), DsiError (the container)
 */
export async function preflight(
  ctx: JobContext,
  request: JobRequest,
  enter: (step: JobStep) => void = () => undefined,
): Promise<Preflight> {
  const ledger = ctx.operator;
  const machineId = ctx.machine.machineId;
  enter('dsi');
  // 1. The DSI: what the container says it is, what the ledger registered, signed by that owner.
  const inspected = await inspect(request.container);
  // The reads of every step go out at once (none depends on another, and a read changes nothing); the
  // checks below still run in their order, each failing closed on what its own read returned.
  const reads = {
    dsi: ledger.dsi.get(inspected.dsiId),
    chain: ledger.licenses.chain(request.licenseId, { terms: true }),
    history: ledger.trace.allocationHistory(request.licenseId, machineId),
    machine: ledger.machines.get(machineId),
    facts: ctx.machine.controller.identify(),
    operator: operatorActor(ledger),
  };
  // Each is awaited at its step; one that a refusal before it leaves unread must not go unhandled.
  for (const read of Object.values(reads)) (read as Promise<unknown>).catch(() => undefined);
  const dsi = await reads.dsi;
  const verified = await verify(request.container, {
    trustedRoots: ctx.trustedRoots,
    expectedSigner: { mspId: dsi.ownerMsp },
  });
  if (verified.dsiId !== dsi.dsiId)
    throw new LedgerError(
      'CORRUPT_STATE',
      `container verifies as ${verified.dsiId}, registered ${dsi.dsiId}`,
    );
  const now = txTime(new Date().toISOString());

  // 2. The license chain and this machine's allocation.
  enter('license');
  const chain: ChainNode[] = await reads.chain;
  assertChainUsable(dsi, chain, now);
  const leaf = chain[chain.length - 1];
  if (leaf?.license.dsiId !== dsi.dsiId)
    throw new JobRefusal(
      'INVALID_ARGUMENT',
      `license ${request.licenseId} is not a license of DSI ${dsi.dsiId}`,
    );
  const history = await reads.history;
  // The newest version: the latest transaction time; within one time (one block), the most consumed.
  const allocation: Allocation | undefined = history
    .flatMap((entry) => (entry.value ? [{ at: entry.timestamp, value: entry.value }] : []))
    .sort((a, b) => b.at.localeCompare(a.at) || b.value.consumed - a.value.consumed)[0]?.value;
  if (!allocation || allocationAvailable(allocation) <= 0)
    throw new LedgerError(
      'ALLOCATION_EXHAUSTED',
      `allocation of license ${request.licenseId} to machine ${machineId} has no unit left`,
    );

  // 3. The machine: the controller's own report against the registry, then the licenses' constraints.
  enter('machine');
  const machine = await reads.machine;
  assertMachineActive(machine);
  assertSameMachine(machine, await reads.facts);
  for (const node of chain)
    if (node.terms) assertMachineEligible(node.license.licenseId, node.terms, machine);

  // 4. The operator logged in at the machine.
  enter('operator');
  const operator = await reads.operator;
  if (operator.mspId !== machine.ownerMsp)
    throw new LedgerError(
      'FORBIDDEN',
      `operator of ${operator.mspId} cannot run machine ${machine.machineId} of ${machine.ownerMsp}`,
    );
  for (const node of chain)
    if (node.terms) assertOperatorQualified(node.license.licenseId, node.terms, operator);

  // 5. The program's signed declaration against every readable envelope.
  enter('program');
  const file = verified.manifest.files.find((f) => f.name === request.program);
  if (!file) throw new JobRefusal('INVALID_ARGUMENT', `DSI ${dsi.dsiId} has no file ${request.program}`);
  const process = file.process;
  if (!process)
    throw new JobRefusal(
      'PROGRAM_REJECTED',
      `${request.program} has no process declaration: it cannot be verified before a unit is consumed`,
    );
  if (process.dialect !== ctx.machine.dialect)
    throw new JobRefusal(
      'PROGRAM_REJECTED',
      `${request.program} is written for ${process.dialect}; machine ${machine.machineId} runs ${ctx.machine.dialect}`,
    );
  const envelope = chain.flatMap((node) => node.terms?.envelope ?? []);
  const declared: Record<string, { min: number; max: number }> = {};
  for (const [name, range] of Object.entries(process.parameters)) {
    const min = parseDeclaredNumber(range.min);
    const max = parseDeclaredNumber(range.max);
    if (min === undefined || max === undefined)
      throw new JobRefusal('PROGRAM_REJECTED', `${request.program}: declared ${name} is not a number`);
    declared[name] = { min, max };
  }
  for (const bound of envelope) {
    const range = declared[bound.name];
    if (!range) continue;
    for (const value of [range.min, range.max]) {
      const [violation] = envelopeViolations([bound], { [bound.name]: value });
      if (violation)
        throw new JobRefusal(
          'PROGRAM_REJECTED',
          `${request.program}: it sets ${bound.name} to ${value}, outside ${violation.expected} of license ${request.licenseId}'s chain`,
        );
    }
  }
  const parameters: Record<string, ParameterValue> = { ...(request.setup ?? {}) };
  for (const [name, range] of Object.entries(declared)) {
    if (Object.hasOwn(parameters, name))
      throw new JobRefusal(
        'INVALID_ARGUMENT',
        `setup value ${name} is the program's to declare, not the job's`,
      );
    if (envelope.some((b) => b.name === name)) parameters[name] = range.max;
  }
  // Every job starts at 100 % overrides (the controller adapters set them); the monitor watches them after.
  for (const [name, value] of Object.entries(START_OVERRIDES))
    if (envelope.some((b) => b.name === name) && !Object.hasOwn(parameters, name)) parameters[name] = value;
  // The request must pass the chaincode's own envelope check of every readable license before it is sent.
  for (const node of chain)
    if (node.terms) assertParametersInEnvelope(node.license.licenseId, node.terms, parameters);
  return {
    dsi,
    chain,
    envelope,
    machine,
    program: { ...file, process },
    parameters,
    confidential: leaf.license.confidential !== null,
  };
}

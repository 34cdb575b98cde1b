import { createHash, randomBytes } from 'node:crypto';
import {
  CausalGroup,
  openLedgerClient,
  threadsealLedger,
  type ThreadsealLedger,
} from '@threadseal/ledger-client';
import {
  LedgerError,
  ThreadsealError,
  type DsiTree,
  type ProductionTerms,
  type RegisterDsiInput,
} from '@threadseal/ledger-model';
import {
  rootTerms,
  SCENARIO_MACHINES,
  SCENARIO_MSP,
  SCENARIO_PARAMETERS,
  SCENARIO_QUANTITIES,
  scenarioGrants,
  subTerms,
  type ScenarioMachineSpec,
} from '../aerospace';
import { newMachineKey, type MachineKey } from '../machine-key';

/** A machine of the scenario: its registry entry and the key it signs build requests with. */
export type ScenarioMachine = ScenarioMachineSpec & MachineKey;

/** What a machine is registered with: what its controller reports. */
export interface RegisteredFacts {
  readonly make: string;
  readonly model: string;
  readonly serial: string;
  readonly firmware: string;
  readonly certifications: readonly string[];
}

/** How one build went. */
export type BuildOutcome =
  | { readonly completed: true; readonly buildId: string; readonly partId: string }
  | { readonly completed: false; readonly code: string; readonly message: string };

/** The terms and machines of a run: the additive aerospace defaults, or the white paper's CNC mills. */
export interface ScenarioVariant {
  readonly rootTerms: ProductionTerms;
  readonly subTerms: ProductionTerms;
  readonly machines: readonly ScenarioMachineSpec[];
}

/** What the scenario did, for the demo's printout and the integration test's assertions. */
export interface ScenarioReport {
  readonly runId: string;
  readonly dsiId: string;
  readonly licenses: { readonly root: string; readonly floor: string; readonly sub: string };
  readonly subLicenseEndorsers: readonly string[];
  readonly machines: readonly { readonly machineId: string; readonly org: string }[];
  readonly partsBuilt: number;
  /** The refusal each machine got when it tried one build beyond its allocation. */
  readonly overAllocation: readonly {
    readonly machineId: string;
    readonly code: string;
    readonly message: string;
  }[];
  readonly tree: DsiTree;
}

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const DAY = 86_400_000;

/** A build the scenario started (committed VALID), before it completes. */
export interface StartedBuild {
  readonly buildId: string;
  readonly machine: MachineKey;
  /** The machine's operator's connection. */
  readonly operator: ThreadsealLedger;
}

/** What a caller can do at points of the scenario. */
export interface ScenarioHooks {
  /**
   * Awaited after each StartBuild commits and before the build completes: where a machine receives its
   * released keys and opens the DSI (the demo and the integration test).
   */
  readonly onBuildStarted?: (build: StartedBuild) => Promise<void>;
  /** Other terms and machines (default: the additive aerospace scenario's). */
  readonly variant?: ScenarioVariant;
  /** Called before each machine is registered: the facts to register, as its controller reports them. */
  readonly prepareMachine?: (machine: ScenarioMachine) => Promise<RegisteredFacts>;
  /**
   * Makes build `index` (1-based) of `machine` under `licenseId` — e.g. through the machine's agent —
   * instead of the scenario's own StartBuild and CompleteBuild; the build after the allocation must be refused.
   */
  readonly build?: (machine: ScenarioMachine, licenseId: string, index: number) => Promise<BuildOutcome>;
}

/** Connections as the users of the reference network that the scenario needs. */
export interface ScenarioUsers {
  readonly oemAdmin: ThreadsealLedger;
  readonly cmLicenseAdmin: ThreadsealLedger;
  readonly cmMachineAdmin: ThreadsealLedger;
  readonly cmOperator: ThreadsealLedger;
  readonly subLicenseAdmin: ThreadsealLedger;
  readonly subMachineAdmin: ThreadsealLedger;
  readonly subOperator: ThreadsealLedger;
}

/** Opens one typed ledger client per scenario user; close them with `closeScenarioUsers`. */
export function openScenarioUsers(profileFile: string): ScenarioUsers {
  // One causal group: each user reads at least what any other user of the scenario saw committed.
  const causal = new CausalGroup();
  const as = (org: string, user: string): ThreadsealLedger =>
    threadsealLedger(openLedgerClient(profileFile, { org, user }, { causal }));
  return {
    oemAdmin: as('oem', 'ip-admin'),
    cmLicenseAdmin: as('manufacturer', 'license-admin'),
    cmMachineAdmin: as('manufacturer', 'machine-admin'),
    cmOperator: as('manufacturer', 'operator'),
    subLicenseAdmin: as('subcontractor', 'license-admin'),
    subMachineAdmin: as('subcontractor', 'machine-admin'),
    subOperator: as('subcontractor', 'operator'),
  };
}

/** Closes every client opened by {@link openScenarioUsers}. */
export function closeScenarioUsers(users: ScenarioUsers): void {
  for (const u of Object.values(users) as ThreadsealLedger[]) u.close();
}

/**
 * The aerospace scenario end to end, through the typed client: the OEM registers the DSI it sealed and signed
 * (`register`, e.g. from `protectDemoTdp`; the ledger verifies the signature is the OEM ip-admin's) and licenses 20
 * parts to the contract manufacturer; the manufacturer keeps 12 for its 3 machines (4 each) and
 * sub-licenses 8 to the subcontractor, whose peer endorses it; the subcontractor allocates 4 to each of
 * its 2 machines; every machine builds its 4 parts and is refused a fifth; the OEM reads the whole tree.
 */
export async function runAerospaceScenario(
  users: ScenarioUsers,
  log: (line: string) => void = () => undefined,
  register: RegisterDsiInput,
  hooks: ScenarioHooks = {},
): Promise<ScenarioReport> {
  const runId = randomBytes(4).toString('hex');
  const variant: ScenarioVariant = hooks.variant ?? {
    rootTerms: rootTerms(),
    subTerms: subTerms(),
    machines: SCENARIO_MACHINES,
  };
  const now = Date.now();
  const grants = scenarioGrants({
    validFrom: new Date(now - DAY).toISOString(),
    validUntil: new Date(now + 365 * DAY).toISOString(),
    subValidUntil: new Date(now + 180 * DAY).toISOString(),
  });
  const ids = { root: `L-ROOT-${runId}`, floor: `L-CM-FLOOR-${runId}`, sub: `L-SUB-${runId}` };

  const { value: registered } = await users.oemAdmin.dsi.register(register);
  log(
    `OEM registered DSI ${registered.dsiId.slice(0, 16)}… (${registered.partNumber} rev ${registered.revision})`,
  );
  log(`OEM licenses ${SCENARIO_QUANTITIES.root} parts to the contract manufacturer (${ids.root})`);
  await users.oemAdmin.licenses.issue({
    licenseId: ids.root,
    dsiId: register.dsiId,
    holderMsp: SCENARIO_MSP.manufacturer,
    grant: grants.root,
    confidential: false,
    terms: variant.rootTerms,
  });

  const machines: ScenarioMachine[] = variant.machines.map((spec) => ({
    ...spec,
    ...newMachineKey(`${spec.name}-${runId}`),
  }));
  log(`manufacturer and subcontractor register ${machines.length} machines`);
  await Promise.all(
    machines.map(async (m) => {
      const facts: RegisteredFacts = (await hooks.prepareMachine?.(m)) ?? {
        make: m.make,
        model: m.model,
        serial: `${m.machineId}-SN`,
        firmware: '4.2.1',
        certifications: m.certifications,
      };
      await (m.org === 'manufacturer' ? users.cmMachineAdmin : users.subMachineAdmin).machines.register({
        machineId: m.machineId,
        ...facts,
        certifications: [...facts.certifications],
        publicKeyPem: m.publicKeyPem,
        recipientPublicKeyPem: m.recipientPublicKeyPem,
      });
    }),
  );

  log(`manufacturer keeps ${SCENARIO_QUANTITIES.floor} for its shop floor (${ids.floor})`);
  await users.cmLicenseAdmin.licenses.split({
    parentId: ids.root,
    licenseId: ids.floor,
    holderMsp: SCENARIO_MSP.manufacturer,
    grant: grants.floor,
    terms: variant.rootTerms,
  });
  log(
    `manufacturer sub-licenses ${SCENARIO_QUANTITIES.sub} to the subcontractor (${ids.sub}); the subcontractor's peer endorses it`,
  );
  const sub = await users.cmLicenseAdmin.licenses.split({
    parentId: ids.root,
    licenseId: ids.sub,
    holderMsp: SCENARIO_MSP.subcontractor,
    grant: grants.sub,
    terms: variant.subTerms,
  });
  const subRecord = await users.cmLicenseAdmin.client.connection.transactionRecord(sub.transactionId);

  const perMachine = SCENARIO_QUANTITIES.perMachine;
  log(`allocations: ${perMachine} units to each of the 3 + 2 machines`);
  // Each allocation writes its licence's balance: one licence's allocations go one after the other (in
  // parallel they would only end as MVCC conflicts and retries), the two licences' side by side.
  await Promise.all(
    (['manufacturer', 'subcontractor'] as const).map(async (org) => {
      for (const m of machines.filter((candidate) => candidate.org === org)) {
        await (org === 'manufacturer' ? users.cmLicenseAdmin : users.subLicenseAdmin).licenses.allocate({
          licenseId: org === 'manufacturer' ? ids.floor : ids.sub,
          machineId: m.machineId,
          quantity: perMachine,
          scrapAllowance: 0,
        });
      }
    }),
  );

  log(
    `each machine builds ${perMachine} parts (start = one unit consumed in a VALID block, then complete with the part id)`,
  );
  let partsBuilt = 0;
  const overAllocation: { machineId: string; code: string; message: string }[] = [];
  const ownBuild = async (m: ScenarioMachine, licenseId: string, index: number): Promise<BuildOutcome> => {
    const operator = m.org === 'manufacturer' ? users.cmOperator : users.subOperator;
    try {
      const started = await operator.builds.startWithMachineKey(
        { licenseId, machineId: m.machineId, parameters: SCENARIO_PARAMETERS },
        m.privateKey,
      );
      await hooks.onBuildStarted?.({ buildId: started.value.buildId, machine: m, operator });
      const partId = `SN-${m.machineId}-${index}`;
      await operator.builds.complete({
        buildId: started.value.buildId,
        partId,
        processRecordDigest: sha256(`process record ${m.machineId} ${index}`),
      });
      return { completed: true, buildId: started.value.buildId, partId };
    } catch (err) {
      if (!(err instanceof LedgerError)) throw err;
      return { completed: false, code: err.code, message: err.message };
    }
  };
  const build = hooks.build ?? ownBuild;
  await Promise.all(
    machines.map(async (m) => {
      const licenseId = m.org === 'manufacturer' ? ids.floor : ids.sub;
      for (let i = 1; i <= perMachine; i++) {
        const outcome = await build(m, licenseId, i);
        if (!outcome.completed)
          throw new ThreadsealError(
            'INTERNAL',
            `build ${i} of ${m.machineId} within its allocation was refused: ${outcome.message}`,
          );
        partsBuilt++;
      }
      const fifth = await build(m, licenseId, perMachine + 1);
      overAllocation.push(
        fifth.completed
          ? { machineId: m.machineId, code: 'NONE', message: 'a fifth build was accepted' }
          : { machineId: m.machineId, code: fifth.code, message: fifth.message },
      );
    }),
  );

  log("OEM reads the DSI's whole tree");
  const tree = await users.oemAdmin.trace.dsiTree(register.dsiId);
  return {
    runId,
    dsiId: register.dsiId,
    licenses: ids,
    subLicenseEndorsers: subRecord.endorserMspIds,
    machines: machines.map((m) => ({ machineId: m.machineId, org: m.org })),
    partsBuilt,
    overAllocation,
    tree,
  };
}

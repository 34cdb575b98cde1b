import { createHash, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import {
  CausalGroup,
  openLedgerClient,
  signStartBuild,
  threadsealLedger,
  type ThreadsealLedger,
} from '@threadseal/ledger-client';
import {
  LedgerError,
  type DsiTree,
  type LicenseGrant,
  type ProductionTerms,
  type RegisterDsiInput,
} from '@threadseal/ledger-model';

/** A machine of the scenario: its registry entry and the key it signs build requests with. */
interface ScenarioMachine {
  readonly machineId: string;
  readonly org: 'manufacturer' | 'subcontractor';
  readonly make: string;
  readonly model: string;
  readonly certifications: readonly string[];
  readonly key: KeyObject;
  readonly publicKeyPem: string;
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

/** Parameters every scenario build runs with: inside both the OEM's and the subcontractor's envelope. */
export const SCENARIO_PARAMETERS = { laserPower: 300, bedTemperature: 180, material: 'Ti-6Al-4V' } as const;

function rootTerms(): ProductionTerms {
  return {
    machines: {
      makes: ['EOS', 'SLM'],
      models: ['M400', 'M290', 'SLM500'],
      serials: [],
      requiredCertifications: ['nadcap-am'],
    },
    envelope: [
      { name: 'laserPower', unit: 'W', kind: 'range', min: 200, max: 400 },
      { name: 'bedTemperature', unit: 'degC', kind: 'range', min: 150, max: 200 },
      { name: 'material', unit: '', kind: 'exact', value: 'Ti-6Al-4V' },
    ],
    operators: { roles: ['am-operator'], qualifications: ['nadcap-am'] },
    workstations: [],
  };
}

function subTerms(): ProductionTerms {
  return {
    machines: {
      makes: ['EOS'],
      models: ['M290'],
      serials: [],
      requiredCertifications: ['nadcap-am', 'as9100'],
    },
    envelope: [
      { name: 'laserPower', unit: 'W', kind: 'range', min: 250, max: 350 },
      { name: 'bedTemperature', unit: 'degC', kind: 'exact', value: 180 },
      { name: 'material', unit: '', kind: 'exact', value: 'Ti-6Al-4V' },
    ],
    operators: { roles: ['am-operator'], qualifications: ['nadcap-am', 'ti-powder'] },
    workstations: [],
  };
}

function machine(
  machineId: string,
  org: ScenarioMachine['org'],
  make: string,
  model: string,
  certifications: string[],
): ScenarioMachine {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    machineId,
    org,
    make,
    model,
    certifications,
    key: privateKey,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
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

export function closeScenarioUsers(users: ScenarioUsers): void {
  for (const u of Object.values(users) as ThreadsealLedger[]) u.close();
}

/**
 * The aerospace scenario end to end, through the typed client: the OEM registers a DSI and licenses 20
 * parts to the contract manufacturer; the manufacturer keeps 12 for its 3 machines (4 each) and
 * sub-licenses 8 to the subcontractor, whose peer endorses it; the subcontractor allocates 4 to each of
 * its 2 machines; every machine builds its 4 parts and is refused a fifth; the OEM reads the whole tree.
 */
export async function runAerospaceScenario(
  users: ScenarioUsers,
  log: (line: string) => void = () => undefined,
  dsi?: Omit<RegisterDsiInput, 'partNumber' | 'revision' | 'title'> & Partial<RegisterDsiInput>,
): Promise<ScenarioReport> {
  const runId = randomBytes(4).toString('hex');
  const now = Date.now();
  const grant = (quantity: number, extra: Partial<LicenseGrant> = {}): LicenseGrant => ({
    quantity,
    mode: 'manufacturing',
    validFrom: new Date(now - DAY).toISOString(),
    validUntil: new Date(now + 365 * DAY).toISOString(),
    maySublicense: false,
    scrapAllowance: 1,
    ...extra,
  });
  const register: RegisterDsiInput = {
    dsiId: dsi?.dsiId ?? sha256(`scenario manifest ${runId}`),
    partNumber: dsi?.partNumber ?? 'BRKT-7731',
    revision: dsi?.revision ?? 'C',
    title: dsi?.title ?? 'Titanium engine mount bracket',
    fileDigests: dsi?.fileDigests ?? [{ path: 'build/bracket.3mf', sha256: sha256(`3mf ${runId}`) }],
    ownerCertFingerprint: dsi?.ownerCertFingerprint ?? sha256(`oem signer ${runId}`),
  };
  const ids = { root: `L-ROOT-${runId}`, floor: `L-CM-FLOOR-${runId}`, sub: `L-SUB-${runId}` };

  log(`OEM registers DSI ${register.dsiId.slice(0, 16)}… (${register.partNumber} rev ${register.revision})`);
  await users.oemAdmin.dsi.register(register);
  log(`OEM licenses 20 parts to the contract manufacturer (${ids.root})`);
  await users.oemAdmin.licenses.issue({
    licenseId: ids.root,
    dsiId: register.dsiId,
    holderMsp: 'ManufacturerMSP',
    grant: grant(20, { maySublicense: true, scrapAllowance: 2 }),
    confidential: false,
    terms: rootTerms(),
  });

  const machines = [
    machine(`cm-eos-m400-1-${runId}`, 'manufacturer', 'EOS', 'M400', ['nadcap-am']),
    machine(`cm-eos-m400-2-${runId}`, 'manufacturer', 'EOS', 'M400', ['nadcap-am']),
    machine(`cm-slm-500-1-${runId}`, 'manufacturer', 'SLM', 'SLM500', ['nadcap-am']),
    machine(`sub-eos-m290-1-${runId}`, 'subcontractor', 'EOS', 'M290', ['nadcap-am', 'as9100']),
    machine(`sub-eos-m290-2-${runId}`, 'subcontractor', 'EOS', 'M290', ['nadcap-am', 'as9100']),
  ];
  log(`manufacturer and subcontractor register ${machines.length} machines`);
  await Promise.all(
    machines.map((m) =>
      (m.org === 'manufacturer' ? users.cmMachineAdmin : users.subMachineAdmin).machines.register({
        machineId: m.machineId,
        make: m.make,
        model: m.model,
        serial: `${m.machineId}-SN`,
        firmware: '4.2.1',
        certifications: [...m.certifications],
        publicKeyPem: m.publicKeyPem,
      }),
    ),
  );

  log(`manufacturer keeps 12 for its shop floor (${ids.floor})`);
  await users.cmLicenseAdmin.licenses.split({
    parentId: ids.root,
    licenseId: ids.floor,
    holderMsp: 'ManufacturerMSP',
    grant: grant(12),
    terms: rootTerms(),
  });
  log(`manufacturer sub-licenses 8 to the subcontractor (${ids.sub}); the subcontractor's peer endorses it`);
  const sub = await users.cmLicenseAdmin.licenses.split({
    parentId: ids.root,
    licenseId: ids.sub,
    holderMsp: 'SubcontractorMSP',
    grant: grant(8, { validUntil: new Date(now + 180 * DAY).toISOString() }),
    terms: subTerms(),
  });
  const subRecord = await users.cmLicenseAdmin.client.connection.transactionRecord(sub.transactionId);

  log('allocations: 4 units to each of the 3 + 2 machines');
  await Promise.all(
    machines.map((m) =>
      (m.org === 'manufacturer' ? users.cmLicenseAdmin : users.subLicenseAdmin).licenses.allocate({
        licenseId: m.org === 'manufacturer' ? ids.floor : ids.sub,
        machineId: m.machineId,
        quantity: 4,
        scrapAllowance: 0,
      }),
    ),
  );

  log(
    'each machine builds 4 parts (start = one unit consumed in a VALID block, then complete with the part id)',
  );
  let partsBuilt = 0;
  const overAllocation: { machineId: string; code: string; message: string }[] = [];
  await Promise.all(
    machines.map(async (m) => {
      const operator = m.org === 'manufacturer' ? users.cmOperator : users.subOperator;
      const licenseId = m.org === 'manufacturer' ? ids.floor : ids.sub;
      for (let i = 1; i <= 4; i++) {
        const started = await operator.builds.start(
          signStartBuild({ licenseId, machineId: m.machineId, parameters: SCENARIO_PARAMETERS }, m.key),
        );
        await operator.builds.complete({
          buildId: started.value.buildId,
          partId: `SN-${m.machineId}-${i}`,
          processRecordDigest: sha256(`process record ${m.machineId} ${i}`),
        });
        partsBuilt++;
      }
      try {
        await operator.builds.start(
          signStartBuild({ licenseId, machineId: m.machineId, parameters: SCENARIO_PARAMETERS }, m.key),
        );
        overAllocation.push({ machineId: m.machineId, code: 'NONE', message: 'a fifth build was accepted' });
      } catch (err) {
        if (!(err instanceof LedgerError)) throw err;
        overAllocation.push({ machineId: m.machineId, code: err.code, message: err.message });
      }
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

/** The OEM's tree as indented text: licenses, their machines, and the parts each machine made. */
export function formatTree(tree: DsiTree): string {
  const lines = [
    `DSI ${tree.dsi.dsiId.slice(0, 16)}…  ${tree.dsi.partNumber} rev ${tree.dsi.revision}  "${tree.dsi.title}"  owner ${tree.dsi.ownerMsp}`,
  ];
  const children = (parentId: string | null, depth: number): void => {
    for (const view of tree.licenses.filter((l) => l.license.parentId === parentId)) {
      const l = view.license;
      const pad = '  '.repeat(depth);
      lines.push(
        `${pad}license ${l.licenseId}: ${l.grantorMsp} → ${l.holderMsp}, ${l.grant.quantity} ${l.grant.mode}, ${view.remaining} left`,
      );
      for (const a of tree.allocations.filter((x) => x.licenseId === l.licenseId)) {
        const m = tree.machines.find((x) => x.machineId === a.machineId);
        const parts = tree.parts.filter((p) => p.machineId === a.machineId && p.licenseId === l.licenseId);
        lines.push(
          `${pad}  machine ${a.machineId} (${m?.make ?? '?'} ${m?.model ?? '?'}): ${a.consumed}/${a.quantity} used, parts ${parts.map((p) => p.partId.replace(/^SN-.*-(\d+)$/, '#$1')).join(' ')}`,
        );
      }
      children(l.licenseId, depth + 1);
    }
  };
  children(null, 1);
  lines.push(
    `  totals: ${tree.licenses.length} licenses, ${tree.machines.length} machines, ${tree.builds.length} builds, ${tree.parts.length} parts`,
  );
  return lines.join('\n');
}

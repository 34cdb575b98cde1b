import { randomBytes } from 'node:crypto';
import type { ProductionTerms } from '@threadseal/ledger-model';
import { fixtureDsi, grant, m400Terms, newMachineKey, type MachineKey } from '@threadseal/test-support';
import type { LedgerSessions } from '@threadseal/test-support/ledger';

/** What a benchmark builds under: one DSI, a root licence to the manufacturer, its shop-floor split, machines. */
export interface LicensedFleet {
  readonly run: string;
  readonly dsiId: string;
  /** The shop-floor licence every machine is allocated from. */
  readonly licenseId: string;
  /** The machine the latency or licence-check measurements use. */
  readonly measurementMachine: MachineKey;
  /** The machines of the throughput rounds. */
  readonly fleet: readonly MachineKey[];
}

/** How many machines, and how many units each, a benchmark needs. */
export interface FleetSpec {
  /** Prefix of the DSI, licence and machine ids (`bench`, `caliper`). */
  readonly tag: string;
  readonly fleetSize: number;
  readonly unitsPerMachine: number;
  readonly measurementUnits: number;
  readonly terms: ProductionTerms;
}

/**
 * Registers a DSI signed by the OEM's admin, licenses it to the manufacturer and splits a shop-floor licence
 * of exactly the units needed, registers `fleetSize + 1` EOS M400 machines and allocates them, through the
 * typed client as the scenario would.
 */
export async function setUpLicensedFleet(sessions: LedgerSessions, spec: FleetSpec): Promise<LicensedFleet> {
  const oem = sessions.as('oem', 'ip-admin');
  const cmAdmin = sessions.as('manufacturer', 'license-admin');
  const cmMachines = sessions.as('manufacturer', 'machine-admin');
  const run = randomBytes(3).toString('hex');
  const code = spec.tag.toUpperCase();
  const total = spec.fleetSize * spec.unitsPerMachine + spec.measurementUnits;
  const signed = fixtureDsi(`${spec.tag} ${run}`, `${code}-1`).signedBy(
    sessions.dsiSigner('oem', 'ip-admin'),
  );
  const { dsiId } = (await oem.dsi.register(signed)).value;
  const rootId = `L-${code}-ROOT-${run}`;
  const licenseId = `L-${code}-FLOOR-${run}`;
  await oem.licenses.issue({
    licenseId: rootId,
    dsiId,
    holderMsp: 'ManufacturerMSP',
    grant: grant(total),
    confidential: false,
    terms: spec.terms,
  });
  await cmAdmin.licenses.split({
    parentId: rootId,
    licenseId,
    holderMsp: 'ManufacturerMSP',
    grant: grant(total, { maySublicense: false }),
    terms: spec.terms,
  });
  const machines = Array.from({ length: spec.fleetSize + 1 }, (_, i) =>
    newMachineKey(`${spec.tag}-m${i}-${run}`),
  );
  await Promise.all(
    machines.map((m) =>
      cmMachines.machines.register({
        machineId: m.machineId,
        make: 'EOS',
        model: 'M400',
        serial: `${m.machineId}-SN`,
        firmware: '1',
        certifications: [],
        publicKeyPem: m.publicKeyPem,
        recipientPublicKeyPem: m.recipientPublicKeyPem,
      }),
    ),
  );
  // Allocations all write the licence's balance key: one after the other.
  for (const [i, m] of machines.entries()) {
    await cmAdmin.licenses.allocate({
      licenseId,
      machineId: m.machineId,
      quantity: i === 0 ? spec.measurementUnits : spec.unitsPerMachine,
      scrapAllowance: 0,
    });
  }
  const [measurementMachine, ...fleet] = machines;
  if (!measurementMachine) throw new Error('a fleet has at least its measurement machine');
  return { run, dsiId, licenseId, measurementMachine, fleet };
}

/**
 * A second tree for the subcontractor's path: a DSI, a root licence to the manufacturer, its sub-licence of
 * `units` to the subcontractor, one subcontractor machine holding them all.
 */
export async function setUpSubcontractorLicence(
  sessions: LedgerSessions,
  run: string,
  units: number,
): Promise<{ readonly licenseId: string; readonly machine: MachineKey }> {
  const oem = sessions.as('oem', 'ip-admin');
  const cmAdmin = sessions.as('manufacturer', 'license-admin');
  const subAdmin = sessions.as('subcontractor', 'license-admin');
  const subMachines = sessions.as('subcontractor', 'machine-admin');
  const terms = m400Terms();
  const signed = fixtureDsi(`bench sub ${run}`, 'BENCH-SUB-1').signedBy(
    sessions.dsiSigner('oem', 'ip-admin'),
  );
  const { dsiId } = (await oem.dsi.register(signed)).value;
  const rootId = `L-BENCH-SUBROOT-${run}`;
  const licenseId = `L-BENCH-SUB-${run}`;
  await oem.licenses.issue({
    licenseId: rootId,
    dsiId,
    holderMsp: 'ManufacturerMSP',
    grant: grant(units),
    confidential: false,
    terms,
  });
  await cmAdmin.licenses.split({
    parentId: rootId,
    licenseId,
    holderMsp: 'SubcontractorMSP',
    grant: grant(units, { maySublicense: false }),
    terms,
  });
  const machine = newMachineKey(`bench-sub-m-${run}`);
  await subMachines.machines.register({
    machineId: machine.machineId,
    make: 'EOS',
    model: 'M400',
    serial: `${machine.machineId}-SN`,
    firmware: '1',
    certifications: [],
    publicKeyPem: machine.publicKeyPem,
    recipientPublicKeyPem: machine.recipientPublicKeyPem,
  });
  await subAdmin.licenses.allocate({
    licenseId,
    machineId: machine.machineId,
    quantity: units,
    scrapAllowance: 0,
  });
  return { licenseId, machine };
}

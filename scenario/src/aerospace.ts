import type { LicenseGrant, ProductionTerms } from '@threadseal/ledger-model';

/*
 * The aerospace scenario, written once: the demo shows it on the reference network, the integration suite
 * replays it there, and the chaincode unit tests run the same terms over the in-memory ledger. The OEM
 * licenses 20 parts to the contract manufacturer, which keeps 12 for its 3 machines (4 each) and
 * sub-licenses 8 to the subcontractor for its 2 machines (4 each).
 */

/** MSP ids of the three orgs of the reference consortium. */
export const SCENARIO_MSP = {
  oem: 'OemMSP',
  manufacturer: 'ManufacturerMSP',
  subcontractor: 'SubcontractorMSP',
} as const;

/** The part the OEM licenses. */
export const SCENARIO_PART = {
  partNumber: 'BRKT-7731',
  revision: 'C',
  title: 'Titanium engine mount bracket',
} as const;

/** Units of each license, and what each machine is allocated. */
export const SCENARIO_QUANTITIES = { root: 20, floor: 12, sub: 8, perMachine: 4 } as const;

/** The OEM's terms: EOS or SLM machines certified nadcap-am, a Ti-6Al-4V envelope, nadcap-am operators. */
export function rootTerms(): ProductionTerms {
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

/** The subcontractor's narrower terms: EOS M290 only, also as9100, tighter laser power, an extra qualification. */
export function subTerms(): ProductionTerms {
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

/** When the scenario's licenses are valid: the sub-license ends before its parent. */
export interface ScenarioWindow {
  readonly validFrom: string;
  readonly validUntil: string;
  readonly subValidUntil: string;
}

/** The scenario's grants over one window. */
export interface ScenarioGrants {
  /** OEM → manufacturer: 20 units, may sub-license, scrap allowance 2. */
  readonly root: LicenseGrant;
  /** The manufacturer's own shop floor: 12 units. */
  readonly floor: LicenseGrant;
  /** Manufacturer → subcontractor: 8 units, ending at `subValidUntil`. */
  readonly sub: LicenseGrant;
}

/** The three grants of the scenario, valid over `window`. */
export function scenarioGrants(window: ScenarioWindow): ScenarioGrants {
  const root: LicenseGrant = {
    quantity: SCENARIO_QUANTITIES.root,
    mode: 'manufacturing',
    validFrom: window.validFrom,
    validUntil: window.validUntil,
    maySublicense: true,
    scrapAllowance: 2,
  };
  const floor: LicenseGrant = {
    ...root,
    quantity: SCENARIO_QUANTITIES.floor,
    maySublicense: false,
    scrapAllowance: 1,
  };
  return {
    root,
    floor,
    sub: { ...floor, quantity: SCENARIO_QUANTITIES.sub, validUntil: window.subValidUntil },
  };
}

/** A machine of the scenario as its owner registers it. */
export interface ScenarioMachineSpec {
  readonly name: string;
  readonly org: 'manufacturer' | 'subcontractor';
  readonly make: string;
  readonly model: string;
  readonly certifications: readonly string[];
}

/** The manufacturer's 3 machines and the subcontractor's 2. */
export const SCENARIO_MACHINES: readonly ScenarioMachineSpec[] = [
  { name: 'cm-eos-m400-1', org: 'manufacturer', make: 'EOS', model: 'M400', certifications: ['nadcap-am'] },
  { name: 'cm-eos-m400-2', org: 'manufacturer', make: 'EOS', model: 'M400', certifications: ['nadcap-am'] },
  { name: 'cm-slm-500-1', org: 'manufacturer', make: 'SLM', model: 'SLM500', certifications: ['nadcap-am'] },
  {
    name: 'sub-eos-m290-1',
    org: 'subcontractor',
    make: 'EOS',
    model: 'M290',
    certifications: ['nadcap-am', 'as9100'],
  },
  {
    name: 'sub-eos-m290-2',
    org: 'subcontractor',
    make: 'EOS',
    model: 'M290',
    certifications: ['nadcap-am', 'as9100'],
  },
];

/** Parameters every scenario build runs with: inside both the OEM's and the subcontractor's envelope. */
export const SCENARIO_PARAMETERS = { laserPower: 300, bedTemperature: 180, material: 'Ti-6Al-4V' } as const;

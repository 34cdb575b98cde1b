import type { ProductionTerms } from '@threadseal/ledger-model';
import type { ScenarioMachineSpec } from './aerospace';

/*
 * The white paper's example on CNC machines: the same 20 → 12 (3 × 4) + 8 (2 × 4) split as the aerospace
 * scenario, with milling terms, five mills (the demo runs each as a real LinuxCNC) and the part's programs.
 */

/** The OEM's CNC terms: Haas or DMG MORI mills certified AS9100D; spindle, feed and feed-override bounds. */
export function cncRootTerms(): ProductionTerms {
  return {
    machines: {
      makes: ['Haas', 'DMG MORI'],
      models: ['VF-2SS', 'DMU 50'],
      serials: [],
      requiredCertifications: ['AS9100D'],
    },
    envelope: [
      { name: 'spindleSpeed', unit: 'rpm', kind: 'range', min: 0, max: 8000 },
      { name: 'feedRate', unit: 'mm/min', kind: 'range', min: 0, max: 2000 },
      { name: 'feedOverride', unit: '%', kind: 'range', min: 50, max: 120 },
    ],
    operators: { roles: ['am-operator'], qualifications: ['nadcap-am'] },
    workstations: [],
  };
}

/** The subcontractor's narrower terms: DMG MORI only, also NADCAP, a lower spindle limit, one more qualification. */
export function cncSubTerms(): ProductionTerms {
  return {
    machines: {
      makes: ['DMG MORI'],
      models: ['DMU 50'],
      serials: [],
      requiredCertifications: ['AS9100D', 'NADCAP-CMSP'],
    },
    envelope: [
      { name: 'spindleSpeed', unit: 'rpm', kind: 'range', min: 0, max: 7000 },
      { name: 'feedRate', unit: 'mm/min', kind: 'range', min: 0, max: 1500 },
      { name: 'feedOverride', unit: '%', kind: 'range', min: 50, max: 110 },
    ],
    operators: { roles: ['am-operator'], qualifications: ['nadcap-am', 'ti-powder'] },
    workstations: [],
  };
}

/** The manufacturer's 3 Haas mills and the subcontractor's 2 DMG MORI mills. */
export const CNC_MACHINES: readonly ScenarioMachineSpec[] = [
  { name: 'cm-haas-vf2-1', org: 'manufacturer', make: 'Haas', model: 'VF-2SS', certifications: ['AS9100D'] },
  { name: 'cm-haas-vf2-2', org: 'manufacturer', make: 'Haas', model: 'VF-2SS', certifications: ['AS9100D'] },
  { name: 'cm-haas-vf2-3', org: 'manufacturer', make: 'Haas', model: 'VF-2SS', certifications: ['AS9100D'] },
  {
    name: 'sub-dmu50-1',
    org: 'subcontractor',
    make: 'DMG MORI',
    model: 'DMU 50',
    certifications: ['AS9100D', 'NADCAP-CMSP'],
  },
  {
    name: 'sub-dmu50-2',
    org: 'subcontractor',
    make: 'DMG MORI',
    model: 'DMU 50',
    certifications: ['AS9100D', 'NADCAP-CMSP'],
  },
];

/**
 * The part's programs (RS274/NGC as LinuxCNC runs it): the licensed one, inside both envelopes, and one whose
 * spindle speed the subcontractor's license does not allow (the demo's refused program).
 */
export const CNC_PROGRAMS = {
  /** Roughing pass of the housing pocket: 6000 rpm, feeds up to 1200 mm/min. */
  housing: [
    '(BRKT-7731 housing pocket, roughing)',
    'G21 G90 G17 G94 G97',
    'S6000 M3',
    'G0 X0 Y0',
    'G1 X12 F1200',
    'G1 Y12',
    'G1 X0',
    'G1 Y0',
    'M5',
    'M30',
    '',
  ].join('\n'),
  /** A finishing pass at 7500 rpm: inside the OEM's 8000, outside the subcontractor's 7000. */
  finishing: ['(BRKT-7731 finishing)', 'G21 G90 G17 G94 G97', 'S7500 M3', 'G1 X4 F600', 'M5', 'M30', ''].join(
    '\n',
  ),
} as const;

/**
 * The envelope parameter names the verifier extracts from a program, with the unit every value is converted
 * to (docs/gcode-verification.md maps each to each dialect). Envelope entries with other names (`material`,
 * `layerHeight`…) are not the verifier's business and are left to whoever declares them.
 */
export const VOCABULARY = {
  /** Spindle speed, rpm (G97 `S`; under G96 the `D`/`LIMS` limit). */
  spindleSpeed: { unit: 'rpm', units: ['rpm', '1/min', 'min-1'] },
  /** Commanded feed, mm/min (inch converted, G95 × rpm). */
  feedRate: { unit: 'mm/min', units: ['mm/min'] },
  /** Feed override, % (FFF `M220 S`). */
  feedOverride: { unit: '%', units: ['%'] },
  /** Spindle override, % (no program word in the supported dialects sets it). */
  spindleOverride: { unit: '%', units: ['%'] },
  /** Extrusion flow, % (FFF `M221 S`). */
  flowRate: { unit: '%', units: ['%'] },
  /** Hot-end target, °C (FFF `M104`/`M109`). */
  nozzleTemperature: { unit: '°C', units: ['°C', 'C', 'degC', 'celsius'] },
  /** Bed target, °C (FFF `M140`/`M190`). */
  bedTemperature: { unit: '°C', units: ['°C', 'C', 'degC', 'celsius'] },
  /** Part-cooling fan, % of full (FFF `M106 S0..255` × 100 / 255). */
  fanSpeed: { unit: '%', units: ['%'] },
} as const satisfies Record<string, { unit: string; units: readonly string[] }>;

/** A name of {@link VOCABULARY}. */
export type VocabularyName = keyof typeof VOCABULARY;

/** Whether `name` is one of {@link VOCABULARY}'s names. */
export function isVocabularyName(name: string): name is VocabularyName {
  return Object.prototype.hasOwnProperty.call(VOCABULARY, name);
}

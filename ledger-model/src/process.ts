/**
 * What a program does, declared by its owner when it seals the DSI: the dialect it is written in and, for each
 * constrained process parameter, the least and greatest value the owner's G-code verifier extracted. It is part
 * of the signed manifest, so a machine's agent can check it against the license's envelope before it asks for
 * a unit, and checks the decrypted program against it before a byte reaches the controller.
 */
export interface ProcessDeclaration {
  /** `rs274ngc`, `fff` or `sinumerik` (the G-code verifier's dialects). */
  readonly dialect: string;
  /**
   * Envelope parameter name (docs/gcode-verification.md) → extracted range. Numbers travel as their shortest
   * decimal text (`String(n)`), because the canonical JSON of a manifest holds integers only.
   */
  readonly parameters: Readonly<Record<string, { readonly min: string; readonly max: string }>>;
}

/** A declared range as numbers. */
export interface DeclaredRange {
  readonly min: number;
  readonly max: number;
}

/** The decimal text a declaration holds for `n`. @throws RangeError for a value that is not finite. */
export function declaredNumber(n: number): string {
  if (!Number.isFinite(n)) throw new RangeError(`not a finite number: ${n}`);
  return String(Object.is(n, -0) ? 0 : n);
}

/** The number a declaration's decimal text stands for, or undefined if the text is not `String(n)` of one. */
export function parseDeclaredNumber(text: string): number | undefined {
  if (!/^-?[0-9][0-9.e+-]*$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isFinite(n) && String(n) === text ? n : undefined;
}

/** The submitting client as the rules see it: its org and the CA attributes of its certificate. */
export interface Actor {
  readonly mspId: string;
  /** `ClientIdentity.getID()`: the subject and issuer of the certificate. */
  readonly id: string;
  readonly role: string | null;
  readonly qualifications: readonly string[];
}

/** The `qualification` CA attribute (comma-separated, e.g. `nadcap-am, ndt-2`) as a list; none when absent. */
export function qualificationsOf(attribute: string | null): string[] {
  return attribute === null
    ? []
    : attribute
        .split(',')
        .map((q) => q.trim())
        .filter((q) => q.length > 0);
}

/** The submitting client as the rules see it: its org and the CA attributes of its certificate. */
export interface Actor {
  readonly mspId: string;
  /** `ClientIdentity.getID()`: the subject and issuer of the certificate. */
  readonly id: string;
  readonly role: string | null;
  readonly qualifications: readonly string[];
}

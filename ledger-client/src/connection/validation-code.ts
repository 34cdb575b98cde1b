import { peer } from '@hyperledger/fabric-protos';

const validationCodeNames: ReadonlyMap<number, string> = new Map(
  Object.entries(peer.TxValidationCode).map(([name, code]) => [code, name]),
);

/** The name of a Fabric TxValidationCode number, e.g. `VALID`, `MVCC_READ_CONFLICT`. */
export function validationCodeName(code: number): string {
  return validationCodeNames.get(code) ?? `UNKNOWN(${code})`;
}

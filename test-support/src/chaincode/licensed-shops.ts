import { TX } from '@threadseal/ledger-model';
import { DSI, ISSUE_ROOT, START, SUB, SUB_GRANT, SUB_TERMS, USERS } from '../aerospace-fixtures';
import { UnitTestMachine, UnitTestNetwork, type UnitTestContractClass } from './unit-test-network';

/** UNIT-TEST ONLY: a network where the OEM licensed CM (L-ROOT), CM sub-licensed SUB (L-SUB) and both allocated to one machine. */
export interface LicensedShops {
  readonly net: UnitTestNetwork;
  readonly cmMachine: UnitTestMachine;
  readonly subMachine: UnitTestMachine;
}

/** Builds {@link LicensedShops} over the chaincode's `contracts`: 2 units on CM's machine under L-ROOT, 3 units (scrap allowance 1) on SUB's under L-SUB. */
export async function licensedShops(contracts: readonly UnitTestContractClass[]): Promise<LicensedShops> {
  const net = new UnitTestNetwork(contracts, START);
  const cmMachine = new UnitTestMachine('cm-eos-m400-1');
  const subMachine = new UnitTestMachine('sub-eos-m290-1');
  await net.submit(USERS.oemAdmin, TX.dsi.register, DSI);
  await net.submit(USERS.oemAdmin, TX.license.issue, ISSUE_ROOT);
  await net.submit(
    USERS.cmMachineAdmin,
    TX.machine.register,
    cmMachine.registration({
      make: 'EOS',
      model: 'M400',
      serial: 'CM-1',
      firmware: '4.2.1',
      certifications: ['nadcap-am'],
    }),
  );
  await net.submit(
    USERS.subMachineAdmin,
    TX.machine.register,
    subMachine.registration({
      make: 'EOS',
      model: 'M290',
      serial: 'SUB-1',
      firmware: '3.9.0',
      certifications: ['nadcap-am', 'as9100'],
    }),
  );
  await net.submit(USERS.cmAdmin, TX.license.split, {
    parentId: 'L-ROOT',
    licenseId: 'L-SUB',
    holderMsp: SUB,
    grant: SUB_GRANT,
    terms: SUB_TERMS,
  });
  await net.submit(USERS.cmAdmin, TX.license.allocate, {
    licenseId: 'L-ROOT',
    machineId: cmMachine.machineId,
    quantity: 2,
    scrapAllowance: 0,
  });
  await net.submit(USERS.subAdmin, TX.license.allocate, {
    licenseId: 'L-SUB',
    machineId: subMachine.machineId,
    quantity: 3,
    scrapAllowance: 1,
  });
  net.advance(60_000);
  return { net, cmMachine, subMachine };
}

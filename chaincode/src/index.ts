import 'reflect-metadata';
import { BuildContract } from './contracts/build-contract';
import { DsiContract } from './contracts/dsi-contract';
import { LicenseContract } from './contracts/license-contract';
import { MachineContract } from './contracts/machine-contract';
import { ReleaseContract } from './contracts/release-contract';
import { SystemContract } from './contracts/system-contract';
import { TraceContract } from './contracts/trace-contract';

/** The contracts fabric-chaincode-node serves; the first is the default namespace. */
export const contracts = [
  SystemContract,
  DsiContract,
  LicenseContract,
  MachineContract,
  BuildContract,
  ReleaseContract,
  TraceContract,
];

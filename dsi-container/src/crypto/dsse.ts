/** DSSE v1 pre-authentication encoding: one definition for the container and the ledger, in ledger-model. */
export { dssePae as pae } from '@threadseal/ledger-model';

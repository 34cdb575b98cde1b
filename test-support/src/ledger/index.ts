// Test helpers that talk to a real network through the typed ledger client.
export { LedgerSessions } from './ledger-sessions';

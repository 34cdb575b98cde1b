import type { CliCommand } from '../command';

/** `threadseal protect | inspect | verify | open` (filled in by the DSI container work). */
export const containerCommands: readonly CliCommand[] = [];

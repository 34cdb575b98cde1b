import { parseArgs } from 'node:util';
import { cliFailure } from './cli-failure';
import type { CliCommand } from './command';
import { containerCommands } from './commands/container';
import { networkCommands } from './commands/network';
import { identityCommands } from './commands/identity';
import { demoCommands } from './commands/demo';
import { ledgerCommands } from './commands/ledger';
import { gcodeCommands } from './commands/gcode';
import { auditCommands } from './commands/audit';
import { agentCommands } from './commands/agent';

const commands: readonly CliCommand[] = [
  ...demoCommands,
  ...networkCommands,
  ...identityCommands,
  ...containerCommands,
  ...ledgerCommands,
  ...gcodeCommands,
  ...auditCommands,
  ...agentCommands,
];

function help(): string {
  const width = Math.max(...commands.map((c) => c.path.join(' ').length));
  const lines = commands.map((c) => `  ${c.path.join(' ').padEnd(width)}  ${c.summary}`);
  return ['usage: threadseal <command> [options]', '', 'commands:', ...lines, ''].join('\n');
}

/** Picks the command whose path is the longest prefix of `argv`. */
function select(argv: readonly string[]): { command: CliCommand; rest: readonly string[] } | undefined {
  let best: CliCommand | undefined;
  for (const c of commands) {
    const matches = c.path.every((word, i) => argv[i] === word);
    if (matches && (!best || c.path.length > best.path.length)) best = c;
  }
  return best ? { command: best, rest: argv.slice(best.path.length) } : undefined;
}

/** Entry point of the `threadseal` binary; resolves to the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === 'help' || argv[0] === '--help' || argv[0] === '-h') {
    process.stdout.write(help());
    return 0;
  }
  const selected = select(argv);
  if (!selected) {
    process.stderr.write(`threadseal: unknown command '${argv.join(' ')}'\n\n${help()}`);
    return 2;
  }
  if (selected.rest.includes('--help') || selected.rest.includes('-h')) {
    process.stdout.write(`${selected.command.usage}\n`);
    return 0;
  }
  try {
    return await selected.command.run(selected.rest);
  } catch (err) {
    const failure = cliFailure(err);
    process.stderr.write(`threadseal ${selected.command.path.join(' ')}: ${failure.message}\n`);
    return failure.exitCode;
  }
}

export { parseArgs };

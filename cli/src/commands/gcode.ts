import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { DIALECTS, VOCABULARY, verifyProgram, type Dialect, type VocabularyName } from '@threadseal/gcode';
import type { ParameterBound } from '@threadseal/ledger-model';
import { decodeParameterEnvelope } from '@threadseal/rules';
import { CliError, type CliCommand } from '../command';

const USAGE = `usage: threadseal gcode check --dialect ${DIALECTS.join('|')} --envelope <envelope.json> <program>
       [--preamble <g-code>] [--json]
The envelope file is a JSON array of the licence's ParameterBound entries. The preamble is what the machine
runs before the program (its start-up code, e.g. "G21 G94 G97"); without it, units and modes are unknown
until the program sets them. Exit 0: accepted (summary on stdout); 1: rejected ("<program>:<line>: …" on
stderr); 2: usage.`;

async function readEnvelope(file: string): Promise<ParameterBound[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read envelope ${file}: ${(err as Error).message}`, 2);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new CliError(`envelope ${file} is not JSON: ${(err as Error).message}`, 2);
  }
  try {
    return decodeParameterEnvelope(json, 'envelope');
  } catch (err) {
    throw new CliError(`envelope ${file}: ${(err as Error).message}`, 2);
  }
}

const checkCommand: CliCommand = {
  path: ['gcode', 'check'],
  summary: "verify a G-code program against a licence's parameter envelope",
  usage: USAGE,
  async run(args) {
    const { values, positionals } = parseArgs({
      args: [...args],
      allowPositionals: true,
      strict: true,
      options: {
        dialect: { type: 'string' },
        envelope: { type: 'string' },
        preamble: { type: 'string' },
        json: { type: 'boolean' },
      },
    });
    const dialect = values.dialect;
    if (dialect === undefined || !(DIALECTS as readonly string[]).includes(dialect))
      throw new CliError(`--dialect must be one of ${DIALECTS.join(', ')}`, 2);
    if (values.envelope === undefined) throw new CliError('missing --envelope <envelope.json>', 2);
    const program = positionals[0];
    if (program === undefined || positionals.length > 1) throw new CliError('give exactly one <program>', 2);
    const info = await stat(program).catch(() => undefined);
    if (info === undefined || !info.isFile())
      throw new CliError(`program ${program} is not a readable file`, 2);
    const envelope = await readEnvelope(values.envelope);
    const verdict = await verifyProgram(createReadStream(program), {
      dialect: dialect as Dialect,
      envelope,
      ...(values.preamble === undefined ? {} : { preamble: values.preamble }),
    });
    if (values.json === true) process.stdout.write(`${JSON.stringify(verdict, null, 2)}\n`);
    if (!verdict.accepted) {
      const where = verdict.column === undefined ? `${verdict.line}` : `${verdict.line}:${verdict.column}`;
      process.stderr.write(`${program}:${where}: ${verdict.code}: ${verdict.reason}\n`);
      return 1;
    }
    if (values.json !== true) {
      const lines = [`accepted: ${program} (${verdict.lines} lines, ${verdict.bytes} bytes)`];
      for (const [name, s] of Object.entries(verdict.parameters)) {
        const unit = VOCABULARY[name as VocabularyName].unit;
        const constrained = envelope.some((b) => b.name === name) ? '' : '  (not in the envelope)';
        lines.push(
          `  ${name}: ${s.min}..${s.max} ${unit}, set ${s.count}×, first on line ${s.firstLine}${constrained}`,
        );
      }
      process.stdout.write(`${lines.join('\n')}\n`);
    }
    return 0;
  },
};

/** `threadseal gcode …`. */
export const gcodeCommands: readonly CliCommand[] = [checkCommand];

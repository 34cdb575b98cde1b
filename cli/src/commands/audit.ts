import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import {
  auditChain,
  auditReportJson,
  auditReportText,
  blockStoreSource,
  buildPassport,
  genesisHashOfBlockFile,
  indexChain,
  ledgerReport,
  ledgerReportText,
  parseGenesisHash,
  passportBytes,
  peerBlockSource,
  verifyPassport,
  type AuditedTransaction,
  type AuditMode,
  type BlockSource,
  type RawBlock,
} from '@threadseal/auditor';
import { openLedgerConnection, type LedgerConnection } from '@threadseal/ledger-client';
import { CliError, type CliCommand } from '../command';
import { connectionFileOf, networkOptionSpec, networkOptionUsage } from '../network-options';

const sourceOptions = {
  ...networkOptionSpec,
  genesis: { type: 'string' },
  'block-store': { type: 'string' },
  peer: { type: 'string' },
  as: { type: 'string' },
  mode: { type: 'string' },
  quiet: { type: 'boolean' },
} as const;

const sourceUsage = `  --genesis <hex>       the pinned SHA-256 header hash of the channel's genesis block (64 hex digits)
  --block-store <dir>   read a copy of a peer's block files (<peer>/data/ledgersData/chains/chains/<channel>)
  --peer <org>          or fetch the blocks from that org's peer (qscc), which is not trusted
  --as <user>           the user of --peer's org that asks its peer (default admin)
  --mode full|hashes-only  verify everything (default) or the hash chain and data hashes only
  --quiet               no progress display on stderr
${networkOptionUsage}`;

function usage(message: string): CliError {
  return new CliError(message, 2);
}

interface SourceValues {
  genesis?: string;
  'block-store'?: string;
  peer?: string;
  as?: string;
  mode?: string;
  quiet?: boolean;
  profile?: string;
  'state-dir'?: string;
  'base-port'?: string;
}

function genesisOf(values: SourceValues): Buffer {
  if (!values.genesis) throw usage('--genesis <hex> is required: the auditor trusts nothing else');
  return parseGenesisHash(values.genesis);
}

function modeOf(values: SourceValues): AuditMode {
  const mode = values.mode ?? 'full';
  if (mode !== 'full' && mode !== 'hashes-only')
    throw usage(`--mode must be full or hashes-only, got '${mode}'`);
  return mode;
}

/** The blocks the options name, and how to release what was opened. */
async function openSource(values: SourceValues): Promise<{ source: BlockSource; close: () => void }> {
  if (values['block-store'] && values.peer) throw usage('give --block-store or --peer, not both');
  if (values['block-store'])
    return {
      source: blockStoreSource(values['block-store']),
      close: () => {
        /* nothing to release */
      },
    };
  if (!values.peer) throw usage('--block-store <dir> or --peer <org> is required');
  const connectionFile = connectionFileOf(values);
  if (!existsSync(connectionFile))
    throw new CliError(`CONNECTION_FAILED: no connection profile ${connectionFile}: is the network up?`, 1);
  const connection: LedgerConnection = openLedgerConnection(connectionFile, {
    org: values.peer,
    user: values.as ?? 'admin',
  });
  const height = await connection.peerHeight();
  return {
    source: peerBlockSource((n) => connection.block(n), height),
    close: () => {
      connection.close();
    },
  };
}

/** A progress line on stderr, rewritten in place on a terminal, every 250 blocks otherwise. */
function progress(quiet: boolean | undefined): (blocks: number, transactions: number) => void {
  const started = Date.now();
  if (quiet) return () => undefined;
  return (blocks, transactions) => {
    const tty = process.stderr.isTTY;
    if (!tty && blocks % 250 !== 0) return;
    const rate = transactions / Math.max(0.001, (Date.now() - started) / 1000);
    const line = `audit: ${blocks} blocks, ${transactions} transactions, ${rate.toFixed(0)} tx/s`;
    process.stderr.write(tty ? `\r${line}` : `${line}\n`);
  };
}

const replay: CliCommand = {
  path: ['audit', 'replay'],
  summary: 'verify the whole chain from the pinned genesis hash, trusting no peer; optional SQLite index',
  usage: `usage: threadseal audit replay --genesis <hex> (--block-store <dir> | --peer <org>) [--index <file>] [--json]
${sourceUsage}
  --index <file>        also write (or resume) the SQLite index of blocks, transactions, writes, anomalies
  --json                print the report as JSON
Exit code 1 when the audit found a failure.`,
  async run(args) {
    const { values } = parseArgs({
      args: [...args],
      options: { ...sourceOptions, index: { type: 'string' }, json: { type: 'boolean' } },
      strict: true,
      allowPositionals: false,
    });
    const genesisHash = genesisOf(values);
    const mode = modeOf(values);
    const { source, close } = await openSource(values);
    try {
      if (values.index) {
        const onBlock = progress(values.quiet);
        let n = 0;
        const r = await indexChain(source, values.index, {
          genesisHash,
          mode,
          onBlock: () => {
            onBlock(++n, 0);
          },
        });
        if (!values.quiet && process.stderr.isTTY) process.stderr.write('\n');
        process.stdout.write(
          `${JSON.stringify({ index: values.index, resumedFrom: r.resumedFrom.toString(), nextBlock: r.nextBlock.toString(), anomalies: r.anomalies })}\n`,
        );
        return r.anomalies === 0 ? 0 : 1;
      }
      const { report } = await auditChain(source, { genesisHash, mode, onBlock: progress(values.quiet) });
      if (!values.quiet && process.stderr.isTTY) process.stderr.write('\n');
      process.stdout.write(`${values.json ? auditReportJson(report, true) : auditReportText(report)}\n`);
      return report.failures.length === 0 ? 0 : 1;
    } finally {
      close();
    }
  },
};

const report: CliCommand = {
  path: ['audit', 'report'],
  summary:
    'audit, then report per DSI / licence tree / machine / part from the rebuilt state, with anomalies',
  usage: `usage: threadseal audit report --genesis <hex> (--block-store <dir> | --peer <org>) [--json]
${sourceUsage}
  --namespace <name>    the chaincode (default threadseal)
  --json                print { audit, ledger } as JSON
Units are recomputed from the world state the audit rebuilt, never read from a peer.`,
  async run(args) {
    const { values } = parseArgs({
      args: [...args],
      options: { ...sourceOptions, json: { type: 'boolean' }, namespace: { type: 'string' } },
      strict: true,
      allowPositionals: false,
    });
    const genesisHash = genesisOf(values);
    const { source, close } = await openSource(values);
    try {
      const { report: audit, auditor } = await auditChain(source, {
        genesisHash,
        onBlock: progress(values.quiet),
      });
      if (!values.quiet && process.stderr.isTTY) process.stderr.write('\n');
      const ledger = ledgerReport(auditor.state, audit, values.namespace ?? 'threadseal');
      process.stdout.write(
        values.json
          ? `{"audit":${auditReportJson(audit, true)},"ledger":${JSON.stringify(ledger)}}\n`
          : `${auditReportText(audit)}\n\n${ledgerReportText(ledger)}\n`,
      );
      return audit.failures.length === 0 ? 0 : 1;
    } finally {
      close();
    }
  },
};

const passport: CliCommand = {
  path: ['audit', 'passport'],
  summary: "write a part's passport: its transactions, their blocks and the header chain to the genesis",
  usage: `usage: threadseal audit passport <partId> --genesis <hex> (--block-store <dir> | --peer <org>) --out <file>
${sourceUsage}
  --out <file>          where the passport is written
  --namespace <name>    the chaincode (default threadseal)`,
  async run(args) {
    const { values, positionals } = parseArgs({
      args: [...args],
      options: { ...sourceOptions, out: { type: 'string' }, namespace: { type: 'string' } },
      strict: true,
      allowPositionals: true,
    });
    const partId = positionals[0];
    if (!partId || positionals.length !== 1) throw usage('give exactly one <partId>');
    if (!values.out) throw usage('--out <file> is required');
    const genesisHash = genesisOf(values);
    const { source, close } = await openSource(values);
    try {
      const blocks: RawBlock[] = [];
      const transactions: AuditedTransaction[] = [];
      const collect = async function* (): AsyncGenerator<RawBlock> {
        for await (const b of source) {
          blocks.push(b);
          yield b;
        }
      };
      const { report } = await auditChain(collect(), {
        genesisHash,
        onTransaction: (t) => transactions.push(t),
        onBlock: progress(values.quiet),
      });
      if (!values.quiet && process.stderr.isTTY) process.stderr.write('\n');
      if (report.failures.length > 0)
        throw new CliError(
          `the chain has ${report.failures.length} audit failure(s); run audit replay first — no passport written`,
          1,
        );
      const p = buildPassport(partId, values.namespace ?? 'threadseal', transactions, blocks);
      await writeFile(values.out, passportBytes(p));
      process.stdout.write(
        `${JSON.stringify({ passport: values.out, partId, transactions: p.transactions.map((t) => `${t.role}@${t.block}:${t.txIndex}`) })}\n`,
      );
      return 0;
    } finally {
      close();
    }
  },
};

const verifyPassportCommand: CliCommand = {
  path: ['audit', 'verify-passport'],
  summary: 'check a part passport offline against the pinned genesis hash',
  usage: `usage: threadseal audit verify-passport <file> --genesis <hex> [--quiet]
Needs no network; --quiet is accepted like the other audit verbs' (this one prints no progress). Exit code 1, with each failure named, when the passport does not verify.`,
  run(args) {
    const { values, positionals } = parseArgs({
      args: [...args],
      options: { genesis: { type: 'string' }, quiet: { type: 'boolean' } },
      strict: true,
      allowPositionals: true,
    });
    const file = positionals[0];
    if (!file || positionals.length !== 1) throw usage('give exactly one passport <file>');
    const genesisHash = genesisOf(values);
    const verdict = verifyPassport(readFileSync(file), genesisHash);
    if (verdict.ok) {
      process.stdout.write(`${JSON.stringify({ ok: true, endorsers: verdict.endorsers })}\n`);
      return Promise.resolve(0);
    }
    process.stdout.write(`${JSON.stringify({ ok: false, failures: verdict.failures })}\n`);
    process.stderr.write(`passport refused:\n${verdict.failures.map((f) => `  ${f}`).join('\n')}\n`);
    return Promise.resolve(1);
  },
};

const genesisHash: CliCommand = {
  path: ['audit', 'genesis-hash'],
  summary: 'print the header hash of a genesis block file (the fact an auditor pins out of band)',
  usage: 'usage: threadseal audit genesis-hash <channel.block>',
  run(args) {
    const { positionals } = parseArgs({ args: [...args], options: {}, strict: true, allowPositionals: true });
    const file = positionals[0];
    if (!file || positionals.length !== 1) throw usage('give exactly one genesis block <file>');
    process.stdout.write(`${genesisHashOfBlockFile(file).toString('hex')}\n`);
    return Promise.resolve(0);
  },
};

/** The `threadseal audit …` verbs. */
export const auditCommands: readonly CliCommand[] = [
  replay,
  report,
  passport,
  verifyPassportCommand,
  genesisHash,
];

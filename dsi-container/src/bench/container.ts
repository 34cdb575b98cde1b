/**
 * Container benchmark: `node dsi-container/dist/bench/container.js [--size-mib N]`.
 * Protect and open (verify + decrypt, plaintext drained in memory) a 1 GiB single-file package
 * and the shared corpus TDP, each phase in its own child process so peak RSS is measured
 * separately; baselines are `openssl speed -evp aes-256-gcm` (16384-byte blocks, one core) and
 * `age` encrypting the same file. Results are printed last, one JSON object per line.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import {
  closeSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { open } from '../container/open';
import { protect, protectToFile, type ProtectFile, type ProtectOptions } from '../container/protect';
import { softwareRecipientKey, softwareSigner } from '../keys/software';

const PACKAGE_DIR = path.resolve(__dirname, '../..');
const REPO_ROOT = path.resolve(PACKAGE_DIR, '..');
const PKI = path.join(PACKAGE_DIR, 'test-pki');
const CORPUS = path.resolve(REPO_ROOT, '../shared/corpus');
const pem = (n: string): string => readFileSync(path.join(PKI, n), 'utf8');

interface PhaseResult {
  readonly seconds: number;
  readonly bytes: number;
  readonly maxRssMiB: number;
}

interface Metric {
  readonly metric: string;
  readonly value: number;
  readonly unit: string;
  readonly baseline: number;
  readonly ratio: number;
}

const round = (n: number, d = 3): number => Math.round(n * 10 ** d) / 10 ** d;

/** Child side: runs one phase and prints one JSON line. */
async function runPhase(phase: string, input: string, output: string): Promise<void> {
  const started = process.hrtime.bigint();
  let bytes = 0;
  if (phase === 'protect' || phase === 'protect-stream') {
    const files: ProtectFile[] = statSync(input).isDirectory()
      ? readdirSync(input, { recursive: true, withFileTypes: true })
          .filter((e) => e.isFile())
          .map((e) => path.relative(input, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
          .sort()
          .map((name) => ({ name, source: path.join(input, name) }))
      : [{ name: path.basename(input), source: input }];
    const options: ProtectOptions = {
      files,
      signer: softwareSigner(pem('signer.cert.pem'), pem('signer.key.pem')),
      recipients: [pem('recipient-a.pub.pem')],
      title: 'bench',
      partNumber: 'BENCH',
      revision: '1',
      onProgress: (n) => {
        bytes = n;
      },
    };
    if (phase === 'protect') {
      // What `threadseal protect` does: one pass, straight into the output file.
      await protectToFile(options, output);
    } else {
      // The streaming API: two passes (digests first, then the payload after the header).
      const sealed = await protect(options);
      await pipeline(sealed.stream, createWriteStream(output));
    }
  } else {
    const opened = await open(output, softwareRecipientKey(pem('recipient-a.key.pem')), {
      trustedRoots: [pem('root-ca.cert.pem')],
    });
    try {
      for (const f of opened.files) for await (const chunk of f.stream()) bytes += (chunk as Buffer).length;
    } finally {
      await opened.close();
    }
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const result: PhaseResult = { seconds, bytes, maxRssMiB: process.resourceUsage().maxRSS / 1024 };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function child(phase: string, input: string, output: string): PhaseResult {
  const r = spawnSync(
    process.execPath,
    [__filename, '--phase', phase, '--input', input, '--output', output],
    { encoding: 'utf8', maxBuffer: 1 << 20 },
  );
  if (r.status !== 0) throw new Error(`phase ${phase} failed: ${r.stderr}`);
  const line = r.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as PhaseResult;
}

/** OpenSSL AES-256-GCM throughput at 16384-byte blocks on one core, in bytes per second. */
function opensslBaseline(): number {
  const out = execFileSync('openssl', ['speed', '-seconds', '3', '-evp', 'aes-256-gcm'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const row = out.split('\n').find((l) => /^AES-256-GCM\s/i.test(l));
  const last = row?.trim().split(/\s+/).pop();
  if (!last?.endsWith('k')) throw new Error(`cannot parse openssl speed output: ${row ?? out}`);
  return Number(last.slice(0, -1)) * 1000;
}

function makeInput(file: string, bytes: number): void {
  const fd = openSync(file, 'w');
  const block = Buffer.allocUnsafe(16 << 20);
  try {
    for (let done = 0; done < bytes; done += block.length) {
      randomFillSync(block);
      writeSync(fd, block, 0, Math.min(block.length, bytes - done));
    }
  } finally {
    closeSync(fd);
  }
}

function timeAge(input: string, dir: string): number | null {
  if (spawnSync('age', ['--version']).status !== 0) return null;
  const keyFile = path.join(dir, 'age.key');
  execFileSync('age-keygen', ['-o', keyFile], { stdio: 'ignore' });
  const recipient = /public key: (age1\w+)/.exec(readFileSync(keyFile, 'utf8'))?.[1];
  if (!recipient) return null;
  const started = process.hrtime.bigint();
  execFileSync('age', ['-r', recipient, '-o', path.join(dir, 'out.age'), input], { stdio: 'ignore' });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  rmSync(path.join(dir, 'out.age'), { force: true });
  return seconds;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      phase: { type: 'string' },
      input: { type: 'string' },
      output: { type: 'string' },
      'size-mib': { type: 'string' },
    },
    strict: true,
  });
  if (values.phase) return runPhase(values.phase, values.input ?? '', values.output ?? '');

  const sizeMiB = Number(values['size-mib'] ?? 1024);
  const size = sizeMiB * 2 ** 20;
  const dir = path.join(REPO_ROOT, '.bench', `container-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const metrics: Metric[] = [];
  const mb = (bytesPerSecond: number): number => round(bytesPerSecond / 1e6, 1);
  try {
    process.stderr.write('bench container: openssl speed -evp aes-256-gcm (3 s)…\n');
    const baseline = opensslBaseline();
    /** Throughput against the same run's single-core OpenSSL AES-256-GCM figure. */
    const throughput = (metric: string, bytes: number, seconds: number): void => {
      metrics.push({
        metric,
        value: mb(bytes / seconds),
        unit: 'MB/s',
        baseline: mb(baseline),
        ratio: round(bytes / seconds / baseline),
      });
    };
    /** Peak RSS against the 150 MB ceiling. */
    const peakRss = (metric: string, mib: number): void => {
      metrics.push({ metric, value: round(mib, 1), unit: 'MiB', baseline: 150, ratio: round(mib / 150) });
    };
    /** Wall time against the time OpenSSL's AES-GCM alone would need for the same bytes. */
    const seconds = (metric: string, bytes: number, s: number): void => {
      metrics.push({
        metric,
        value: round(s),
        unit: 's',
        baseline: round(bytes / baseline),
        ratio: round(s / (bytes / baseline)),
      });
    };
    // The reference line is its own baseline.
    throughput('openssl_aes256gcm_16k_1core', baseline, 1);

    const input = path.join(dir, 'input.bin');
    const output = path.join(dir, 'input.dsi');
    process.stderr.write(`bench container: generating ${sizeMiB} MiB input in ${dir}…\n`);
    makeInput(input, size);
    const label = sizeMiB === 1024 ? '1gib' : `${sizeMiB}mib`;

    process.stderr.write('bench container: protect…\n');
    const p = child('protect', input, output);
    throughput(`protect_${label}_throughput`, size, p.seconds);
    peakRss(`protect_${label}_peak_rss`, p.maxRssMiB);

    process.stderr.write('bench container: protect (stream API)…\n');
    const ps = child('protect-stream', input, output);
    throughput(`protect_stream_api_${label}_throughput`, size, ps.seconds);
    peakRss(`protect_stream_api_${label}_peak_rss`, ps.maxRssMiB);

    process.stderr.write('bench container: open (verify + decrypt)…\n');
    const o = child('open', input, output);
    if (o.bytes !== size) throw new Error(`open released ${o.bytes} bytes, expected ${size}`);
    throughput(`open_${label}_throughput`, size, o.seconds);
    peakRss(`open_${label}_peak_rss`, o.maxRssMiB);
    rmSync(output, { force: true });

    process.stderr.write('bench container: age…\n');
    const ageSeconds = timeAge(input, dir);
    if (ageSeconds !== null) {
      throughput(`age_encrypt_${label}_throughput`, size, ageSeconds);
      metrics.push({
        metric: `protect_${label}_speedup_vs_age`,
        value: round(ageSeconds / p.seconds, 2),
        unit: 'x',
        baseline: 2,
        ratio: round(ageSeconds / p.seconds / 2),
      });
    }
    rmSync(input, { force: true });

    if (existsSync(CORPUS)) {
      process.stderr.write('bench container: corpus TDP…\n');
      const corpusBytes = readdirSync(CORPUS, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .reduce((n, e) => n + statSync(path.join(e.parentPath, e.name)).size, 0);
      const tdp = path.join(dir, 'corpus.dsi');
      const cp = child('protect', CORPUS, tdp);
      const co = child('open', CORPUS, tdp);
      throughput('protect_corpus_tdp_throughput', corpusBytes, cp.seconds);
      throughput('open_corpus_tdp_throughput', corpusBytes, co.seconds);
      seconds('protect_corpus_tdp_seconds', corpusBytes, cp.seconds);
      seconds('open_corpus_tdp_seconds', corpusBytes, co.seconds);
    } else {
      process.stderr.write(`bench container: ${CORPUS} absent, corpus phase skipped\n`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  for (const m of metrics) process.stdout.write(`${JSON.stringify(m)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench container: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});

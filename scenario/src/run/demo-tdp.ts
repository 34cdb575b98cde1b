import { createHash, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import {
  mediaTypeFor,
  open,
  protectToFile,
  registrationOf,
  softwareRecipientKey,
  softwareSigner,
  type ProtectFile,
} from '@threadseal/dsi-container';
import { identityFiles, type FabricNetwork } from '@threadseal/network';
import type { ThreadsealLedger } from '@threadseal/ledger-client';
import {
  LedgerError,
  ThreadsealError,
  type FileDigest,
  type KeyRelease,
  type RegisterDsiInput,
} from '@threadseal/ledger-model';
import type { MachineKey } from '../machine-key';

/** The real corpus TDP when the shared corpus is beside the repository. */
const CORPUS_FILES = ['additive/wormdrive.step', 'additive/wormdrive.3mf', 'additive/hook_plate_1.gcode'];

/** A sealed demo TDP: where it is, its ledger registration, and how to check it. */
export interface DemoDsi {
  readonly file: string;
  readonly dsiId: string;
  readonly source: string;
  /** `dsi:Register` of the container: its signed manifest, signature and signer certificate (the OEM ip-admin's). */
  readonly register: RegisterDsiInput;
  /** The ciphertext digests the ledger will record, as the manifest lists them. */
  readonly fileDigests: readonly FileDigest[];
  readonly trustedRoot: string;
  /** SHA-256 of each plaintext file, kept in memory only to show that `open` gives back the same bytes. */
  readonly plaintextDigests: ReadonlyMap<string, string>;
}

const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

function tdpFiles(repoRoot: string): { files: { name: string; bytes: Buffer }[]; source: string } {
  const corpus = resolve(repoRoot, '..', 'shared', 'corpus');
  if (CORPUS_FILES.every((f) => existsSync(join(corpus, f)))) {
    return {
      files: CORPUS_FILES.map((f) => ({ name: basename(f), bytes: readFileSync(join(corpus, f)) })),
      source: corpus,
    };
  }
  // No corpus beside this clone: a small generated TDP keeps the demo self-contained.
  const gcode = [
    'G21 G90',
    'M104 S215',
    'M140 S60',
    ...Array.from(
      { length: 400 },
      (_, i) => `G1 X${i % 50} Y${(i * 7) % 50} E${(i * 0.05).toFixed(2)} F1800`,
    ),
    'M104 S0',
    'M30',
  ].join('\n');
  const step = [
    'ISO-10303-21;',
    'HEADER;',
    "FILE_NAME('bracket.step');",
    'ENDSEC;',
    'DATA;',
    '#1=CARTESIAN_POINT((0.,0.,0.));',
    'ENDSEC;',
    'END-ISO-10303-21;',
  ].join('\n');
  return {
    files: [
      { name: 'bracket.step', bytes: Buffer.from(step) },
      { name: 'bracket.gcode', bytes: Buffer.from(gcode) },
    ],
    source: 'generated sample TDP',
  };
}

/** The folder the OEM keeps its containers in, `<dsiId>.dsi` each (what its key-release service reads). */
export function demoDsiStore(network: FabricNetwork): string {
  return join(network.plan.stateDir, 'dsi');
}

/**
 * The OEM's ip-admin seals the TDP with its Fabric CA identity (signature) for `recipients` only — the OEM's
 * key-release service (docs/decisions/0008): no licensee holds a content key at rest. The DSI id that goes on
 * the ledger is the digest of the signed manifest, and the registered file digests are ciphertext digests (no
 * plaintext hashes leave). The container is kept as `<store>/<dsiId>.dsi`.
 */
export async function protectDemoTdp(
  network: FabricNetwork,
  runId: string,
  recipients: readonly KeyObject[],
  /** More files, e.g. programs with the owner's process declarations, sealed in the same DSI. */
  programs: readonly ProtectFile[] = [],
): Promise<DemoDsi> {
  const { plan } = network;
  const oem = plan.orgs.find((o) => o.name === 'oem');
  if (!oem) throw new ThreadsealError('INVALID_ARGUMENT', 'the network has no oem org');
  const signerFiles = identityFiles(network.userDir('oem', 'ip-admin'));
  const certPem = readFileSync(signerFiles.cert);
  const { files, source } = tdpFiles(plan.repoRoot);
  const protectFiles: ProtectFile[] = [
    ...files.map((f) => ({ name: f.name, source: f.bytes, mediaType: mediaTypeFor(f.name) })),
    ...programs,
  ];
  const dir = demoDsiStore(network);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const staging = join(dir, `wormdrive-${runId}.dsi.partial`);
  const sealed = await protectToFile(
    {
      files: protectFiles,
      signer: softwareSigner(certPem, readFileSync(signerFiles.key)),
      recipients,
      title: 'Worm drive housing',
      partNumber: `WD-${runId}`,
      revision: 'A',
      mspId: oem.mspId,
    },
    staging,
  );
  const file = join(dir, `${sealed.dsiId}.dsi`);
  renameSync(staging, file);
  const register: RegisterDsiInput = await registrationOf(file);
  return {
    file,
    dsiId: sealed.dsiId,
    source,
    register,
    fileDigests: sealed.manifest.files.map((f, i) => ({
      path: f.name ?? `file-${i}`,
      ciphertextDigest: f.digest,
    })),
    trustedRoot: readFileSync(oem.caCert, 'utf8'),
    plaintextDigests: new Map([
      ...files.map((f): [string, string] => [f.name, sha256(f.bytes)]),
      ...programs.flatMap((p): [string, string][] =>
        p.source instanceof Uint8Array ? [[p.name, sha256(Buffer.from(p.source))]] : [],
      ),
    ]),
  };
}

/**
 * Waits until the keys of `buildId` are released on the ledger (the OEM's key-release service follows the
 * committed StartBuild), reading through the machine operator's own peer.
 * @throws LedgerError NOT_FOUND when no release committed within `timeoutMs`.
 */
export async function waitForRelease(
  operator: ThreadsealLedger,
  buildId: string,
  timeoutMs = 30_000,
): Promise<KeyRelease> {
  const release = await operator.releases.waitFor(buildId, timeoutMs);
  if (!release)
    throw new LedgerError('NOT_FOUND', `no key release of build ${buildId} within ${timeoutMs / 1000} s`);
  return release;
}

/**
 * Opens the DSI in memory as `machine` with the keys released to one of its builds: verify first, then
 * decrypt; returns what came out, compared with the protected files.
 */
export async function openReleased(
  dsi: DemoDsi,
  machine: MachineKey,
  release: KeyRelease,
): Promise<{ files: number; bytes: number; allMatch: boolean }> {
  const key = softwareRecipientKey(machine.recipientKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  const opened = await open(dsi.file, key, { trustedRoots: [dsi.trustedRoot], release });
  try {
    let bytes = 0;
    let allMatch = opened.dsiId === dsi.dsiId;
    for (const f of opened.files) {
      const hash = createHash('sha256');
      for await (const chunk of f.stream()) {
        hash.update(chunk as Buffer);
        bytes += (chunk as Buffer).length;
      }
      allMatch &&= hash.digest('hex') === dsi.plaintextDigests.get(f.name);
    }
    return { files: opened.files.length, bytes, allMatch };
  } finally {
    await opened.close();
  }
}

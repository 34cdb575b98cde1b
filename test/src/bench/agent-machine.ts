/**
 * The machine agent of `npm run bench -- agent`, in its own process so that its peak RSS is the agent's alone:
 * it runs `jobs` jobs through `runJob` and prints one JSON line per job (when each step began, when the
 * controller had the program), then one line with its resident set before the first job and at its peak.
 * Each job is stopped as soon as the controller has the program (the bench measures the way in, not the
 * machining), so each ends as an AbortBuild. Settings come in a JSON file (mode 600) named by its argument.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { softwareMessageSigner, softwareRecipientKey } from '@threadseal/dsi-container';
import {
  LinuxCncController,
  runJob,
  type Controller,
  type Job,
  type JobStep,
  type RunOptions,
} from '@threadseal/enforce-agent';
import { openLedgerClient, threadsealLedger } from '@threadseal/ledger-client';

export interface AgentMachineSettings {
  readonly profileFile: string;
  readonly machineId: string;
  readonly signingKeyPem: string;
  readonly decryptionKeyPem: string;
  readonly identity: { make: string; model: string; serial: string; certifications: string[] };
  readonly container: string;
  readonly licenseId: string;
  readonly program: string;
  readonly trustedRoot: string;
  readonly jobs: number;
}

/** One job's timeline, ms from the job request. */
export interface JobTimeline {
  readonly outcome: string;
  readonly steps: Partial<Record<JobStep, number>>;
  readonly firstByteMs: number | undefined;
  /** The bridge's split of the `run` step: bytes into the controller's tmpfs file, then LinuxCNC starting. */
  readonly handOver?: { readonly receiveMs: number; readonly startMs: number };
}

/** The controller as the agent sees it, noting when a program has been handed over, then stopping the job. */
class FirstByteProbe implements Controller {
  readonly #inner: Controller;
  #handedOverAt: number | undefined;

  constructor(inner: Controller) {
    this.#inner = inner;
  }

  identify() {
    return this.#inner.identify();
  }

  async run(program: Buffer, options: RunOptions): Promise<Job> {
    const job = await this.#inner.run(program, options);
    this.#handedOverAt = performance.now();
    void job.stop('benchmark: the program reached the controller').catch(() => undefined);
    return job;
  }

  close() {
    return this.#inner.close();
  }

  /** When the last program was handed over (performance.now()), and forgets it. */
  takeHandedOver(): number | undefined {
    const at = this.#handedOverAt;
    this.#handedOverAt = undefined;
    return at;
  }
}

async function main(): Promise<void> {
  const settings = JSON.parse(readFileSync(process.argv[2] ?? '', 'utf8')) as AgentMachineSettings;
  const operator = threadsealLedger(
    openLedgerClient(settings.profileFile, { org: 'manufacturer', user: 'operator' }),
  );
  const linuxcnc = await LinuxCncController.start({ identity: settings.identity });
  const probe = new FirstByteProbe(linuxcnc);
  try {
    // The idle agent: connected, its controller up, nothing decrypted yet.
    await operator.client.connection.evaluate('system:WhoAmI');
    const idleRssMiB = process.memoryUsage().rss / 2 ** 20;
    const trustedRoots = [settings.trustedRoot];
    for (let i = 0; i < settings.jobs; i++) {
      const steps: Partial<Record<JobStep, number>> = {};
      probe.takeHandedOver();
      const t0 = performance.now();
      const report = await runJob(
        {
          machine: {
            machineId: settings.machineId,
            signer: softwareMessageSigner(settings.signingKeyPem),
            decryptionKey: softwareRecipientKey(settings.decryptionKeyPem),
            controller: probe,
            dialect: 'rs274ngc',
          },
          operator,
          trustedRoots,
          log: () => undefined,
          onProgress: (p) => {
            steps[p.step] ??= performance.now() - t0;
          },
        },
        {
          container: settings.container,
          licenseId: settings.licenseId,
          program: settings.program,
          partId: `SN-bench-${settings.machineId}-${i}`,
        },
      );
      const handedOver = probe.takeHandedOver();
      const timeline: JobTimeline = {
        outcome: report.outcome === 'aborted' ? `${report.outcome} (${report.reason})` : report.outcome,
        steps,
        firstByteMs: handedOver === undefined ? undefined : handedOver - t0,
        ...(handedOver !== undefined && linuxcnc.lastHandOver !== undefined
          ? {
              handOver: {
                receiveMs: linuxcnc.lastHandOver.receiveMs,
                startMs: linuxcnc.lastHandOver.startMs,
              },
            }
          : {}),
      };
      process.stdout.write(`${JSON.stringify({ job: i, ...timeline })}\n`);
    }
    process.stdout.write(
      `${JSON.stringify({ idleRssMiB, peakRssMiB: process.resourceUsage().maxRSS / 1024 })}\n`,
    );
  } finally {
    await linuxcnc.close();
    operator.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

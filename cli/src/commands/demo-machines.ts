import { softwareMessageSigner, softwareRecipientKey, type ProtectFile } from '@threadseal/dsi-container';
import { linuxCncAvailability, LinuxCncController, runJob, type JobReport } from '@threadseal/enforce-agent';
import { declareProgram } from '@threadseal/gcode';
import { ThreadsealError } from '@threadseal/ledger-model';
import type {
  BuildOutcome,
  RegisteredFacts,
  ScenarioHooks,
  ScenarioMachine,
  ScenarioUsers,
} from '@threadseal/scenario/run';
import { CNC_MACHINES, CNC_PROGRAMS, cncRootTerms, cncSubTerms } from '@threadseal/scenario';

/** The part's programs as the OEM seals them: each with the declaration its own verifier made. */
export function declaredPrograms(): ProtectFile[] {
  return Object.entries(CNC_PROGRAMS).map(([name, text]) => {
    const declared = declareProgram(Buffer.from(text), 'rs274ngc');
    if ('rejected' in declared)
      throw new ThreadsealError(
        'INTERNAL',
        `the OEM's program ${name} does not verify: ${declared.rejected.reason}`,
      );
    return {
      name: `${name}.ngc`,
      source: Buffer.from(text),
      mediaType: 'text/x-gcode',
      process: declared.declaration,
    };
  });
}

/** Why the machines cannot be real LinuxCNC controllers here, or undefined when they can. */
export function machinesUnavailable(): string | undefined {
  const available = linuxCncAvailability();
  return available.ok ? undefined : available.reason;
}

/** The five mills of the demo, each a real LinuxCNC in its own namespaces, driven by its own agent. */
export class DemoMachines {
  readonly #controllers = new Map<string, LinuxCncController>();
  readonly #users: ScenarioUsers;
  readonly #container: string;
  readonly #trustedRoot: string;
  readonly #out: (line: string) => void;
  /** The program each machine's first job runs instead of the licensed one (the demo's refused program). */
  readonly #firstProgram = new Map<string, string>();
  readonly refusals: { machineId: string; report: Extract<JobReport, { outcome: 'refused' }> }[] = [];

  constructor(users: ScenarioUsers, container: string, trustedRoot: string, out: (line: string) => void) {
    this.#users = users;
    this.#container = container;
    this.#trustedRoot = trustedRoot;
    this.#out = out;
  }

  /** The CNC variant of the scenario with every machine a LinuxCNC and every build through its agent. */
  hooks(): ScenarioHooks {
    return {
      variant: { rootTerms: cncRootTerms(), subTerms: cncSubTerms(), machines: CNC_MACHINES },
      prepareMachine: (m) => this.#start(m),
      build: (m, licenseId, index) => this.#build(m, licenseId, index),
    };
  }

  async #start(m: ScenarioMachine): Promise<RegisteredFacts> {
    const controller = await LinuxCncController.start({
      identity: {
        make: m.make,
        model: m.model,
        serial: `${m.machineId}-SN`,
        certifications: m.certifications,
      },
    });
    this.#controllers.set(m.machineId, controller);
    // The subcontractor's first mill is first handed the finishing program, which its license does not allow.
    if (m.name === 'sub-dmu50-1') this.#firstProgram.set(m.machineId, 'finishing.ngc');
    return controller.identify();
  }

  async #build(m: ScenarioMachine, licenseId: string, index: number): Promise<BuildOutcome> {
    const controller = this.#controllers.get(m.machineId);
    if (!controller) throw new ThreadsealError('INTERNAL', `machine ${m.machineId} has no controller`);
    const ctx = {
      machine: {
        machineId: m.machineId,
        // Development mode: the machine's keys in software (a production machine keeps them in its token).
        signer: softwareMessageSigner(m.privateKey),
        decryptionKey: softwareRecipientKey(m.recipientKey),
        controller,
        dialect: 'rs274ngc' as const,
      },
      operator: m.org === 'manufacturer' ? this.#users.cmOperator : this.#users.subOperator,
      trustedRoots: [this.#trustedRoot],
      log: () => undefined,
    };
    const special = this.#firstProgram.get(m.machineId);
    if (special) {
      this.#firstProgram.delete(m.machineId);
      const report = await runJob(ctx, {
        container: this.#container,
        licenseId,
        program: special,
        partId: 'none',
      });
      if (report.outcome !== 'refused')
        throw new ThreadsealError(
          'INTERNAL',
          `${special} on ${m.machineId} was not refused: ${report.outcome}`,
        );
      this.refusals.push({ machineId: m.machineId, report });
      this.#out(`  ${m.machineId}: ${special} refused before anything was sent: ${report.reason}`);
    }
    const partId = `SN-${m.machineId}-${index}`;
    const report = await runJob(ctx, {
      container: this.#container,
      licenseId,
      program: 'housing.ngc',
      partId,
    });
    if (report.outcome === 'completed') {
      this.#out(
        `  ${m.machineId}: part ${partId} made on LinuxCNC (build ${report.buildId.slice(0, 12)}…, ${report.samples} telemetry samples, digest ${report.telemetryDigest.slice(0, 12)}…)`,
      );
      return { completed: true, buildId: report.buildId, partId };
    }
    if (report.outcome === 'refused') return { completed: false, code: report.code, message: report.reason };
    throw new ThreadsealError('INTERNAL', `job ${partId} on ${m.machineId} was aborted: ${report.reason}`);
  }

  /** Stops every controller and its processes. */
  async close(): Promise<void> {
    await Promise.all([...this.#controllers.values()].map((c) => c.close()));
  }
}

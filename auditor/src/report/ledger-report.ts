import type { Allocation, Build, License, LicenseBalance, Part } from '@threadseal/ledger-model';
import { allocationAvailable, envelopeViolations, remainingUnits } from '@threadseal/rules';
import type { AuditReport } from './audit-report';
import { spaceOf, type WorldState } from '../state/world-state';

/** One licence of a tree, with the units recomputed from the rebuilt state. */
export interface LicenseNodeReport {
  readonly licenseId: string;
  readonly parentId: string | null;
  readonly holderMsp: string;
  readonly granted: number;
  readonly sublicensed: number;
  readonly allocated: number;
  /** Units consumed by builds on this licence's allocations. */
  readonly consumed: number;
  /** Scrapped units credited back to this licence's allocations. */
  readonly credited: number;
  /** `remainingUnits` of the rules package. */
  readonly remaining: number;
  /** Parts produced under this licence and its descendants. */
  readonly parts: number;
}

/** A machine: its allocations and builds. */
export interface MachineReport {
  readonly machineId: string;
  readonly allocations: readonly {
    readonly licenseId: string;
    readonly quantity: number;
    readonly consumed: number;
    readonly credited: number;
    readonly available: number;
  }[];
  readonly builds: Readonly<Record<string, number>>;
  readonly parts: number;
}

/** A domain finding of the report (data, like the audit's anomalies). */
export interface DomainAnomaly {
  readonly kind:
    | 'PARTS_OVER_LICENSED'
    | 'ALLOCATION_OVERCONSUMED'
    | 'BUILD_NEVER_COMPLETED'
    | 'PARAMETER_VIOLATION'
    | 'REPEATED_INVALID_FROM_ORG'
    | 'CONFIG_CHANGE'
    | 'LEDGER_FAILURE';
  readonly subject: string;
  readonly detail: string;
}

/** The report per DSI / licence tree / machine / part. */
export interface LedgerReport {
  readonly dsis: readonly { readonly dsiId: string; readonly licenses: readonly LicenseNodeReport[] }[];
  readonly machines: readonly MachineReport[];
  readonly parts: readonly Part[];
  readonly anomalies: readonly DomainAnomaly[];
}

function records<T>(state: WorldState, namespace: string, type: string): T[] {
  const out: T[] = [];
  const prefix = `\u0000${type}\u0000`;
  for (const [space, key, v] of state.entries()) {
    if (space !== spaceOf(namespace) || !key.startsWith(prefix)) continue;
    try {
      out.push(JSON.parse(Buffer.from(v.value).toString('utf8')) as T);
    } catch {
      // a value that is not JSON is not a record of this type; the chaincode writes canonical JSON only
    }
  }
  return out;
}

/** Orgs with at least this many INVALID endorsements other than MVCC/phantom conflicts are reported. */
const ROGUE_THRESHOLD = 3;

/**
 * Builds the report per DSI, licence tree, machine and part from the world state the audit rebuilt
 * (never from a peer's answers), recomputing units with the rules package, plus the domain anomalies.
 */
export function ledgerReport(state: WorldState, audit: AuditReport, namespace = 'threadseal'): LedgerReport {
  const licenses = records<License>(state, namespace, 'license');
  const balances = new Map(
    records<LicenseBalance>(state, namespace, 'license-balance').map((b) => [b.licenseId, b]),
  );
  const allocations = records<Allocation>(state, namespace, 'allocation');
  const builds = records<Build>(state, namespace, 'build');
  const parts = records<Part>(state, namespace, 'part');
  const anomalies: DomainAnomaly[] = [];
  const children = new Map<string, License[]>();
  for (const l of licenses)
    if (l.parentId) children.set(l.parentId, [...(children.get(l.parentId) ?? []), l]);
  const subtree = (id: string): string[] => [
    id,
    ...(children.get(id) ?? []).flatMap((c) => subtree(c.licenseId)),
  ];
  const nodes = licenses.map((l): LicenseNodeReport => {
    const balance = balances.get(l.licenseId) ?? {
      licenseId: l.licenseId,
      sublicensed: 0,
      allocated: 0,
      scrapAllowanceAllocated: 0,
    };
    const own = allocations.filter((a) => a.licenseId === l.licenseId);
    const ids = new Set(subtree(l.licenseId));
    const node: LicenseNodeReport = {
      licenseId: l.licenseId,
      parentId: l.parentId,
      holderMsp: l.holderMsp,
      granted: l.grant.quantity,
      sublicensed: balance.sublicensed,
      allocated: balance.allocated,
      consumed: own.reduce((n, a) => n + a.consumed, 0),
      credited: own.reduce((n, a) => n + a.scrapCredited, 0),
      remaining: remainingUnits(l, balance),
      parts: parts.filter((p) => ids.has(p.licenseId)).length,
    };
    const credit = allocations.filter((a) => ids.has(a.licenseId)).reduce((n, a) => n + a.scrapCredited, 0);
    if (node.parts > node.granted + credit)
      anomalies.push({
        kind: 'PARTS_OVER_LICENSED',
        subject: l.licenseId,
        detail: `${node.parts} parts under a licence of ${node.granted} units (+${credit} credited)`,
      });
    return node;
  });
  for (const a of allocations)
    if (a.consumed > a.quantity + a.scrapCredited)
      anomalies.push({
        kind: 'ALLOCATION_OVERCONSUMED',
        subject: `${a.licenseId}/${a.machineId}`,
        detail: `${a.consumed} consumed of ${a.quantity} (+${a.scrapCredited} credited)`,
      });
  const termsOf = new Map(licenses.map((l) => [l.licenseId, l.terms]));
  for (const b of builds) {
    if (b.status === 'running')
      anomalies.push({
        kind: 'BUILD_NEVER_COMPLETED',
        subject: b.buildId,
        detail: `build on ${b.machineId} under ${b.licenseId} started ${b.startedAt}, never completed, aborted or scrapped`,
      });
    const terms = termsOf.get(b.licenseId);
    if (terms && b.parameters) {
      const violations = envelopeViolations(terms.envelope, b.parameters);
      if (violations.length > 0)
        anomalies.push({
          kind: 'PARAMETER_VIOLATION',
          subject: b.buildId,
          detail: violations
            .map((v) => `${v.parameter}: expected ${v.expected}, found ${String(v.found)}`)
            .join('; '),
        });
    }
  }
  for (const [org, codes] of Object.entries(audit.invalidByEndorsingOrg)) {
    const suspicious = Object.entries(codes).filter(
      ([c]) => c !== 'MVCC_READ_CONFLICT' && c !== 'PHANTOM_READ_CONFLICT',
    );
    const n = suspicious.reduce((s, [, k]) => s + k, 0);
    if (n >= ROGUE_THRESHOLD)
      anomalies.push({
        kind: 'REPEATED_INVALID_FROM_ORG',
        subject: org,
        detail: `${n} INVALID transactions endorsed: ${suspicious.map(([c, k]) => `${c} ${k}`).join(', ')}`,
      });
  }
  for (const n of audit.notices)
    anomalies.push({ kind: 'CONFIG_CHANGE', subject: `block ${n.block}`, detail: n.detail });
  for (const f of audit.failures)
    anomalies.push({
      kind: 'LEDGER_FAILURE',
      subject: `block ${f.block}${f.txIndex === undefined ? '' : ` tx ${f.txIndex}`}`,
      detail: `${f.kind}: ${f.detail}`,
    });
  const dsiIds = [...new Set(licenses.map((l) => l.dsiId))].sort();
  const machineIds = [
    ...new Set([...allocations.map((a) => a.machineId), ...builds.map((b) => b.machineId)]),
  ].sort();
  return {
    dsis: dsiIds.map((dsiId) => ({
      dsiId,
      licenses: nodes.filter((n) => licenses.find((l) => l.licenseId === n.licenseId)?.dsiId === dsiId),
    })),
    machines: machineIds.map((machineId) => ({
      machineId,
      allocations: allocations
        .filter((a) => a.machineId === machineId)
        .map((a) => ({
          licenseId: a.licenseId,
          quantity: a.quantity,
          consumed: a.consumed,
          credited: a.scrapCredited,
          available: allocationAvailable(a),
        })),
      builds: builds
        .filter((b) => b.machineId === machineId)
        .reduce<Record<string, number>>((m, b) => ({ ...m, [b.status]: (m[b.status] ?? 0) + 1 }), {}),
      parts: parts.filter((p) => p.machineId === machineId).length,
    })),
    parts,
    anomalies,
  };
}

/** The report as text: one block per DSI (its licence tree), per machine, then the anomalies. */
export function ledgerReportText(report: LedgerReport): string {
  const lines: string[] = [];
  for (const d of report.dsis) {
    lines.push(`DSI ${d.dsiId}`);
    const byParent = (parent: string | null, depth: number): void => {
      for (const n of d.licenses.filter((x) => x.parentId === parent)) {
        lines.push(
          `${'  '.repeat(depth + 1)}${n.licenseId} (${n.holderMsp}): granted ${n.granted}, sublicensed ${n.sublicensed}, allocated ${n.allocated}, consumed ${n.consumed}, credited ${n.credited}, remaining ${n.remaining}, parts ${n.parts}`,
        );
        byParent(n.licenseId, depth + 1);
      }
    };
    const roots = d.licenses.filter(
      (n) => n.parentId === null || !d.licenses.some((x) => x.licenseId === n.parentId),
    );
    for (const r of roots) {
      lines.push(
        `  ${r.licenseId} (${r.holderMsp}): granted ${r.granted}, sublicensed ${r.sublicensed}, allocated ${r.allocated}, consumed ${r.consumed}, credited ${r.credited}, remaining ${r.remaining}, parts ${r.parts}`,
      );
      byParent(r.licenseId, 1);
    }
  }
  for (const m of report.machines)
    lines.push(
      `machine ${m.machineId}: ${m.parts} parts; builds ${
        Object.entries(m.builds)
          .map(([s, n]) => `${s} ${n}`)
          .join(', ') || 'none'
      }; ${m.allocations.map((a) => `${a.licenseId} ${a.consumed}/${a.quantity}`).join(', ')}`,
    );
  lines.push(`${report.parts.length} parts, ${report.anomalies.length} anomalies`);
  for (const a of report.anomalies) lines.push(`  ${a.kind} ${a.subject}: ${a.detail}`);
  return lines.join('\n');
}

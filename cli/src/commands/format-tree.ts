import type { DsiTree } from '@threadseal/ledger-model';

/** The OEM's tree as indented text: licenses, their machines, and the parts each machine made. */
export function formatTree(tree: DsiTree): string {
  const lines = [
    `DSI ${tree.dsi.dsiId.slice(0, 16)}…  ${tree.dsi.partNumber} rev ${tree.dsi.revision}  "${tree.dsi.title}"  owner ${tree.dsi.ownerMsp}`,
  ];
  const children = (parentId: string | null, depth: number): void => {
    for (const view of tree.licenses.filter((l) => l.license.parentId === parentId)) {
      const l = view.license;
      const pad = '  '.repeat(depth);
      lines.push(
        `${pad}license ${l.licenseId}: ${l.grantorMsp} → ${l.holderMsp}, ${l.grant.quantity} ${l.grant.mode}, ${view.remaining} left`,
      );
      for (const a of tree.allocations.filter((x) => x.licenseId === l.licenseId)) {
        const m = tree.machines.find((x) => x.machineId === a.machineId);
        const parts = tree.parts.filter((p) => p.machineId === a.machineId && p.licenseId === l.licenseId);
        lines.push(
          `${pad}  machine ${a.machineId} (${m?.make ?? '?'} ${m?.model ?? '?'}): ${a.consumed}/${a.quantity} used, parts ${parts.map((p) => p.partId.replace(/^SN-.*-(\d+)$/, '#$1')).join(' ')}`,
        );
      }
      children(l.licenseId, depth + 1);
    }
  };
  children(null, 1);
  lines.push(
    `  totals: ${tree.licenses.length} licenses, ${tree.machines.length} machines, ${tree.builds.length} builds, ${tree.parts.length} parts`,
  );
  return lines.join('\n');
}

import { readFileSync } from 'node:fs';
import { readProcesses, type FabricNetwork } from '@threadseal/network';

/** CPU seconds used so far by every process of the network, by kind (chaincode servers counted with their supervisor's children). */
export function cpuByKind(network: FabricNetwork): Record<string, number> {
  const ticks = (pid: number): number => {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
        .replace(/^.*\) /, '')
        .split(' ');
      return Number(fields[11]) + Number(fields[12]);
    } catch {
      return 0;
    }
  };
  const out: Record<string, number> = { client: (process.cpuUsage().user + process.cpuUsage().system) / 1e6 };
  for (const r of readProcesses(network.plan.stateDir)) {
    let t = ticks(r.pid);
    if (r.kind === 'chaincode') {
      const children = readFileSync(`/proc/${r.pid}/task/${r.pid}/children`, 'utf8')
        .trim()
        .split(/\s+/)
        .filter(Boolean);
      for (const c of children) t += ticks(Number(c));
    }
    out[r.kind] = (out[r.kind] ?? 0) + t / 100;
  }
  return out;
}

export function cpuDelta(before: Record<string, number>, after: Record<string, number>): string {
  return Object.keys(after)
    .map((k) => `${k} ${((after[k] ?? 0) - (before[k] ?? 0)).toFixed(1)} s`)
    .join(', ');
}

/** CPU seconds the whole machine has spent busy and in total (all cores) since boot, from /proc/stat. */
export function machineCpu(): { busy: number; total: number } {
  const [, ...fields] = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/);
  const jiffies = fields.map(Number);
  const idle = (jiffies[3] ?? 0) + (jiffies[4] ?? 0);
  // guest time is already counted in user time
  const total = jiffies.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: (total - idle) / 100, total: total / 100 };
}

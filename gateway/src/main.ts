import { readFileSync } from 'node:fs';
import { isThreadsealError, ThreadsealError } from '@threadseal/ledger-model';
import { gatewayConfig, type GatewayConfig } from './config';
import { lineWriter } from './logging/line-writer';
import { startGateway } from './server';

const USAGE = 'usage: threadseal-gateway --config <gateway.json>';

function configFile(argv: readonly string[]): string {
  const at = argv.indexOf('--config');
  const file = at >= 0 ? argv[at + 1] : undefined;
  if (file === undefined || file.startsWith('--')) throw new ThreadsealError('USAGE', USAGE);
  return file;
}

/**
 * The gateway process: reads its configuration file (paths and names only, never a key), serves until
 * SIGTERM or SIGINT, and writes structured JSON lines to stdout — the first `{"event":"listening",…}` with
 * its URLs, then one per request. Resolves to the exit code.
 */
export async function main(argv: readonly string[]): Promise<number> {
  let config: GatewayConfig;
  try {
    const file = configFile(argv);
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new ThreadsealError('USAGE', `cannot read the configuration ${file}: ${(err as Error).message}`);
    }
    config = gatewayConfig(raw as Partial<GatewayConfig>);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  // Lifecycle events at once (whoever started the gateway waits for "listening"); request lines batched.
  const lines = lineWriter(process.stdout);
  const write = lines.now;
  let running;
  try {
    running = await startGateway(config, { log: lines.later });
  } catch (err) {
    const code = isThreadsealError(err) ? err.code : 'INTERNAL';
    write({ event: 'failed', code, message: err instanceof Error ? err.message : String(err) });
    return 1;
  }
  write({
    event: 'listening',
    org: config.org,
    mspId: running.mspId,
    url: running.url,
    dashboard: `${running.url}/dashboard`,
    openapi: `${running.url}/openapi.json`,
  });
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await running.close();
  write({ event: 'stopped', org: config.org });
  lines.close();
  return 0;
}

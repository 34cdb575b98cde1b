import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { NetworkError } from './errors';
import { delay, isAlive, tailLog, type ProcessRecord } from './processes';

/** Resolves when nothing listens on host:port; the error names the owner of the port in our plan. */
export function assertPortFree(host: string, port: number, owner: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        new NetworkError(
          'PORT_IN_USE',
          `port ${host}:${port} (${owner}) is in use (${err.code ?? err.message}); stop what holds it or pick another --base-port`,
        ),
      );
    });
    server.listen({ host, port, exclusive: true }, () =>
      server.close(() => {
        resolve();
      }),
    );
  });
}

/** GET a URL; resolves to status and body, or undefined when nothing answers. */
export function httpGet(
  url: string,
  caFile?: string,
  client?: { readonly cert: string; readonly key: string },
): Promise<{ status: number; body: string } | undefined> {
  return new Promise((resolve) => {
    const u = new URL(url);
    const options = {
      timeout: 2000,
      ...(u.protocol === 'https:' && caFile ? { ca: readFileSync(caFile) } : {}),
      ...(client ? { cert: readFileSync(client.cert), key: readFileSync(client.key) } : {}),
    };
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(u, options, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => {
      resolve(undefined);
    });
    req.end();
  });
}

export interface WaitOptions {
  readonly what: string;
  readonly timeoutMs: number;
  /** The process whose death ends the wait at once, with its last log lines in the error. */
  readonly process?: ProcessRecord;
  readonly intervalMs?: number;
}

/**
 * Polls `probe` until it returns a value other than undefined. Fails with NODE_UNHEALTHY, naming the
 * node and quoting its last log lines, when the process dies or the time runs out.
 */
export async function waitFor<T>(probe: () => Promise<T | undefined>, options: WaitOptions): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError = '';
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = (err as Error).message;
    }
    const proc = options.process;
    if (proc && !isAlive(proc.pid)) {
      throw new NetworkError(
        'NODE_UNHEALTHY',
        `${proc.name} exited while waiting for ${options.what}; last log lines in ${proc.logFile}`,
        tailLog(proc.logFile),
      );
    }
    if (Date.now() > deadline) {
      throw new NetworkError(
        'NODE_UNHEALTHY',
        `timed out after ${options.timeoutMs / 1000} s waiting for ${options.what}${lastError ? ` (${lastError})` : ''}`,
        proc ? tailLog(proc.logFile) : undefined,
      );
    }
    await delay(options.intervalMs ?? 150);
  }
}

/** Waits until a Fabric operations endpoint reports `/healthz` 200. */
export function waitHealthy(url: string, caFile: string | undefined, options: WaitOptions): Promise<true> {
  return waitFor(async () => {
    const res = await httpGet(`${url}/healthz`, caFile);
    return res?.status === 200 ? true : undefined;
  }, options);
}

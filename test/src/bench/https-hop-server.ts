/**
 * The api bench's floor of one extra process hop: an HTTPS server with mutual TLS, as the gateway serves,
 * that answers every request with the same JSON body after a timer of `--wait-ms` (standing in for the ledger
 * call), doing nothing else. `REST to it − the same timer in the client's process` is what a kept-alive
 * HTTPS round trip to another process costs on this machine at this moment, with no gateway code and no
 * Fabric: what the gateway's overhead cannot go below. Paths of PEM files only on the command line, never
 * key material. Prints `{"port":…}` once listening; stops on SIGTERM.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';

function option(name: string): string {
  const at = process.argv.indexOf(`--${name}`);
  const value = at >= 0 ? process.argv[at + 1] : undefined;
  if (value === undefined) throw new Error(`https-hop-server: --${name} is required`);
  return value;
}

const waitMs = Number(option('wait-ms'));
const body = Buffer.from(readFileSync(option('body-file')));
const server = createServer(
  {
    cert: readFileSync(option('cert-file')),
    key: readFileSync(option('key-file')),
    ca: readFileSync(option('client-ca-file')),
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: 'TLSv1.2',
  },
  (_req, res) => {
    setTimeout(() => {
      res.writeHead(200, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': body.length,
      });
      res.end(body);
    }, waitMs);
  },
);
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
process.once('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});

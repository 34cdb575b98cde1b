import { Agent, request } from 'node:https';

/** A client of an HTTPS JSON service with a client certificate (mutual TLS). */
export interface HttpsCredential {
  /** PEM of the client certificate and key; leave both out to connect without a certificate. */
  readonly cert?: string;
  readonly key?: string;
  /** PEM of the CA the server's certificate must chain to. */
  readonly ca: string;
}

/** A response: status, headers, the body as text and parsed when it is JSON. */
export interface JsonResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly text: string;
  readonly body: unknown;
}

/** A kept-alive agent presenting `credential`, to reuse across requests (close it with `destroy()`). */
export function httpsAgent(credential: HttpsCredential, keepAlive = true): Agent {
  return new Agent({
    keepAlive,
    ca: credential.ca,
    ...(credential.cert ? { cert: credential.cert } : {}),
    ...(credential.key ? { key: credential.key } : {}),
  });
}

/**
 * Sends one request. `body` is sent as JSON unless it is a string or Buffer (sent as is, for malformed
 * input). Rejects only when no HTTP response came (TLS refused, connection reset).
 */
export function httpsJson(
  agent: Agent,
  url: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Readonly<Record<string, string>> = {},
): Promise<JsonResponse> {
  const payload =
    body === undefined
      ? undefined
      : typeof body === 'string' || Buffer.isBuffer(body)
        ? body
        : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, url),
      {
        method,
        agent,
        headers: {
          accept: 'application/json',
          ...(payload !== undefined
            ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) }
            : {}),
          ...headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = undefined;
          try {
            parsed = JSON.parse(text) as unknown;
          } catch {
            parsed = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body: parsed });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    // Without Nagle's delay (TCP_NODELAY), as gRPC clients and Node's servers send: Node's https agent
    // ignores its `noDelay` option for TLS sockets. Set once per socket (Node skips an unchanged setting).
    req.on('socket', (socket) => socket.setNoDelay(true));
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

import { createServer } from 'node:net';

/** Resolves when each port can be bound on 127.0.0.1 (nothing is left listening). */
export async function assertPortsFree(ports: readonly number[]): Promise<void> {
  for (const port of ports) {
    await new Promise<void>((resolve, reject) => {
      const s = createServer();
      s.once('error', (err) => {
        reject(new Error(`port ${port} still in use: ${err.message}`));
      });
      s.listen({ host: '127.0.0.1', port, exclusive: true }, () =>
        s.close(() => {
          resolve();
        }),
      );
    });
  }
}

import type { Response } from 'express';
import type { LedgerEvent } from '@threadseal/ledger-model';

/** One subscriber of the server-sent events stream. */
interface Subscriber {
  readonly res: Response;
  readonly dsiId: string | undefined;
}

function dsiOf(event: LedgerEvent): string | undefined {
  const payload = event.payload as { dsiId?: unknown };
  return typeof payload.dsiId === 'string' ? payload.dsiId : undefined;
}

/** Fans the chaincode events out to server-sent-event subscribers (the dashboard), optionally by DSI. */
export class EventHub {
  readonly #subscribers = new Set<Subscriber>();
  #heartbeat: NodeJS.Timeout | undefined;

  /** Streams events to `res` until the client goes away. */
  subscribe(res: Response, dsiId: string | undefined): void {
    res.status(200).set({
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
    });
    res.flushHeaders();
    res.write(': connected\n\n');
    const subscriber = { res, dsiId };
    this.#subscribers.add(subscriber);
    this.#heartbeat ??= setInterval(() => {
      for (const s of this.#subscribers) s.res.write(': heartbeat\n\n');
    }, 15_000).unref();
    res.on('close', () => {
      this.#subscribers.delete(subscriber);
    });
  }

  /** Sends one event to every subscriber of its DSI (and to those of all DSIs). */
  publish(event: LedgerEvent, blockNumber: string): void {
    const dsiId = dsiOf(event);
    const data = JSON.stringify({ name: event.name, blockNumber, payload: event.payload });
    for (const s of this.#subscribers) {
      if (s.dsiId === undefined || s.dsiId === dsiId) s.res.write(`event: ${event.name}\ndata: ${data}\n\n`);
    }
  }

  /** How many clients are subscribed. */
  get size(): number {
    return this.#subscribers.size;
  }

  /** Ends every stream. */
  close(): void {
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    for (const s of this.#subscribers) s.res.end();
    this.#subscribers.clear();
  }
}

import { createConnection, type Socket } from 'node:net';
import { ControllerError } from '../controller.js';

/** A message the bridge pushes without being asked (`telemetry`, `done`). */
export type BridgeEvent = Readonly<Record<string, unknown>> & { readonly event: string };

interface Pending {
  readonly resolve: (result: Record<string, unknown>) => void;
  readonly reject: (err: Error) => void;
}

const MAX_LINE = 1 << 20;

/**
 * The agent's end of the bridge's JSON-lines protocol (python/threadseal_linuxcnc_bridge.py): requests with
 * an id and one reply each, events in between. The socket lives in a dir only root and the controller user
 * can enter.
 */
export class BridgeClient {
  readonly #socket: Socket;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #buffer = '';
  #closed: Error | undefined;
  readonly #onEvent: (event: BridgeEvent) => void;
  readonly #onClose: (err: Error) => void;

  private constructor(socket: Socket, onEvent: (e: BridgeEvent) => void, onClose: (err: Error) => void) {
    this.#socket = socket;
    this.#onEvent = onEvent;
    this.#onClose = onClose;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.#receive(chunk);
    });
    socket.on('error', (err) => {
      this.#shut(new ControllerError('CONTROLLER_FAILED', `bridge socket: ${err.message}`, { cause: err }));
    });
    socket.on('close', () => {
      this.#shut(new ControllerError('CONTROLLER_FAILED', 'the LinuxCNC bridge closed its socket'));
    });
  }

  /** Connects to the bridge's socket. */
  static connect(
    path: string,
    onEvent: (e: BridgeEvent) => void,
    onClose: (err: Error) => void,
  ): Promise<BridgeClient> {
    return new Promise((resolve, reject) => {
      const socket = createConnection(path);
      const failed = (err: Error): void => {
        reject(new ControllerError('CONTROLLER_UNAVAILABLE', `bridge socket ${path}: ${err.message}`));
      };
      socket.once('error', failed);
      socket.once('connect', () => {
        socket.off('error', failed);
        resolve(new BridgeClient(socket, onEvent, onClose));
      });
    });
  }

  /**
   * Sends one request and resolves with its result.
   * @throws ControllerError CONTROLLER_FAILED when the bridge refuses it or goes away.
   */
  request(op: string, fields: Readonly<Record<string, unknown>> = {}): Promise<Record<string, unknown>> {
    if (this.#closed) return Promise.reject(this.#closed);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#socket.write(`${JSON.stringify({ ...fields, id, op })}\n`);
    });
  }

  /**
   * Sends one request followed by `payload` as raw bytes (the bridge reads exactly `bytes` of them after the
   * request's line) and resolves with its result. `payload` must not change until this settles: the socket
   * writes from it, not from a copy.
   * @throws ControllerError CONTROLLER_FAILED when the bridge refuses it or goes away.
   */
  requestWithPayload(
    op: string,
    fields: Readonly<Record<string, unknown>>,
    payload: Uint8Array,
  ): Promise<Record<string, unknown>> {
    if (this.#closed) return Promise.reject(this.#closed);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      // Both writes are queued in this order before anything else can write: header, then payload.
      this.#socket.write(`${JSON.stringify({ ...fields, bytes: payload.length, id, op })}\n`);
      this.#socket.write(payload);
    });
  }

  close(): void {
    this.#socket.destroy();
  }

  #receive(chunk: string): void {
    this.#buffer += chunk;
    if (this.#buffer.length > MAX_LINE && !this.#buffer.includes('\n')) {
      this.#shut(new ControllerError('CONTROLLER_FAILED', 'the bridge sent a line over 1 MiB'));
      this.#socket.destroy();
      return;
    }
    let newline: number;
    while ((newline = this.#buffer.indexOf('\n')) >= 0) {
      const line = this.#buffer.slice(0, newline);
      this.#buffer = this.#buffer.slice(newline + 1);
      this.#dispatch(line);
    }
  }

  #dispatch(line: string): void {
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      this.#shut(new ControllerError('CONTROLLER_FAILED', 'the bridge sent a line that is not JSON'));
      this.#socket.destroy();
      return;
    }
    if (typeof message !== 'object' || message === null) return;
    const m = message as Record<string, unknown>;
    if (typeof m.event === 'string') {
      this.#onEvent(m as BridgeEvent);
      return;
    }
    if (typeof m.id !== 'number') return;
    const pending = this.#pending.get(m.id);
    if (pending === undefined) return;
    this.#pending.delete(m.id);
    if (m.ok === true && typeof m.result === 'object' && m.result !== null)
      pending.resolve(m.result as Record<string, unknown>);
    else
      pending.reject(
        new ControllerError(
          'CONTROLLER_FAILED',
          `LinuxCNC refused: ${typeof m.error === 'string' ? m.error : 'no reason given'}`,
        ),
      );
  }

  #shut(err: Error): void {
    if (this.#closed) return;
    this.#closed = err;
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
    this.#onClose(err);
  }
}

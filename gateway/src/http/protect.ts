import { protect, registrationOf, type Signer as DsiSigner } from '@threadseal/dsi-container';
import { ThreadsealError } from '@threadseal/ledger-model';
import { decodeRegisterDsi } from '@threadseal/rules';
import type { Caller } from '../auth/caller';
import { authorize } from '../auth/permissions';
import type { GatewayLedger } from '../ledger/gateway-ledger';

/** Limits of one upload: the body limit bounds the total; these bound its shape. */
const MAX_FILES = 64;
const MAX_RECIPIENTS = 64;

function text(body: Record<string, unknown>, key: string, max = 256): string {
  const value = body[key];
  if (typeof value !== 'string' || value.length === 0 || value.length > max)
    throw new ThreadsealError('INVALID_ARGUMENT', `${key}: expected a string of 1..${max} characters`);
  return value;
}

function list(body: Record<string, unknown>, key: string, max: number): unknown[] {
  const value = body[key];
  if (!Array.isArray(value) || value.length === 0 || value.length > max)
    throw new ThreadsealError('INVALID_ARGUMENT', `${key}: expected an array of 1..${max} items`);
  return value;
}

/**
 * Upload-and-protect at the IP owner's gateway: seals the uploaded files into a DSI signed by the caller's
 * custodial key for the given recipients — plaintext only in memory (byte sources, no spool file) — and
 * registers it as the caller. Answers the committed registration and the container (base64).
 * @throws ThreadsealError FORBIDDEN without ip-admin or a custodial key; INVALID_ARGUMENT for a bad upload.
 */
export async function protectAndRegister(
  ledger: GatewayLedger,
  caller: Caller,
  signer: DsiSigner | undefined,
  body: unknown,
): Promise<unknown> {
  authorize(caller, 'dsi:Register');
  if (!signer)
    throw new ThreadsealError(
      'FORBIDDEN',
      `${caller.name} keeps its own key: protect on its own side, then POST /v1/dsis`,
    );
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new ThreadsealError('INVALID_ARGUMENT', 'input: expected an object');
  const request = body as Record<string, unknown>;
  const files = list(request, 'files', MAX_FILES).map((entry, i) => {
    const file = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
    const name = text(file, 'name', 1024);
    const content = file['content'];
    if (typeof content !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(content))
      throw new ThreadsealError('INVALID_ARGUMENT', `files[${i}].content: expected base64`);
    return { name, source: new Uint8Array(Buffer.from(content, 'base64')) };
  });
  const recipients = list(request, 'recipients', MAX_RECIPIENTS).map((r, i) => {
    if (typeof r !== 'string' || !r.startsWith('-----BEGIN '))
      throw new ThreadsealError(
        'INVALID_ARGUMENT',
        `recipients[${i}]: expected a PEM public key or certificate`,
      );
    return r;
  });
  const sealed = await protect({
    files,
    signer,
    recipients,
    title: text(request, 'title'),
    partNumber: text(request, 'partNumber', 128),
    revision: text(request, 'revision', 64),
    mspId: caller.mspId,
  });
  const chunks: Buffer[] = [];
  for await (const chunk of sealed.stream) chunks.push(chunk as Buffer);
  const container = Buffer.concat(chunks);
  const registration = decodeRegisterDsi(await registrationOf(new Uint8Array(container)));
  const committed = await ledger.submit(caller, 'dsi:Register', registration);
  return { ...committed, container: container.toString('base64') };
}

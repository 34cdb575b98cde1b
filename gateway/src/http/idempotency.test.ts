import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { isThreadsealError } from '@threadseal/ledger-model';
import { IdempotencyStore, type StoredResponse } from './idempotency';

describe('IdempotencyStore (SQLite)', function () {
  let dir: string;
  let file: string;
  let clock: number;
  const open: IdempotencyStore[] = [];
  const store = (options: { maxEntries?: number; ttlMs?: number } = {}) => {
    const s = new IdempotencyStore({
      file,
      maxEntries: options.maxEntries ?? 100,
      ttlMs: options.ttlMs ?? 60_000,
      now: () => clock,
    });
    open.push(s);
    return s;
  };
  /** A run that counts its calls and answers `response`. */
  const counted = (response: StoredResponse) => {
    const run = async () => {
      run.calls++;
      await Promise.resolve();
      return response;
    };
    run.calls = 0;
    return run;
  };
  const refusal = async (p: Promise<unknown>): Promise<{ code: string; message: string }> => {
    try {
      await p;
    } catch (err) {
      if (isThreadsealError(err)) return { code: err.code, message: err.message };
      throw err;
    }
    throw new Error('expected a refusal');
  };

  beforeEach(function () {
    dir = mkdtempSync(join(tmpdir(), 'threadseal-idempotency-'));
    file = join(dir, 'idempotency.sqlite');
    clock = 1_000_000;
  });
  afterEach(function () {
    for (const s of open.splice(0)) {
      try {
        s.close();
      } catch {
        // already closed by the test
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('replays the first response from the file after the store is reopened, without running again', async function () {
    const first = counted({ status: 200, body: { transactionId: 'tx1', blockNumber: '7' } });
    const a = store();
    const r1 = await a.once('fp', 'k1', { units: 2 }, first);
    expect(r1).to.deep.equal({
      response: { status: 200, body: { transactionId: 'tx1', blockNumber: '7' } },
      replayed: false,
    });
    a.close();
    const again = counted({ status: 200, body: { transactionId: 'tx2' } });
    const r2 = await store().once('fp', 'k1', { units: 2 }, again);
    expect(r2).to.deep.equal({
      response: { status: 200, body: { transactionId: 'tx1', blockNumber: '7' } },
      replayed: true,
    });
    expect(first.calls + again.calls).to.equal(1);
  });

  it('refuses the same key with another body after a reopen with ALREADY_EXISTS, running nothing', async function () {
    const a = store();
    await a.once('fp', 'k1', { units: 2 }, counted({ status: 200, body: { ok: 1 } }));
    a.close();
    const run = counted({ status: 200, body: {} });
    expect(await refusal(store().once('fp', 'k1', { units: 3 }, run))).to.deep.equal({
      code: 'ALREADY_EXISTS',
      message: 'ALREADY_EXISTS: Idempotency-Key k1 was used for a different request',
    });
    expect(run.calls).to.equal(0);
  });

  it('keeps keys per caller', async function () {
    const s = store();
    await s.once('fp-a', 'k1', { units: 2 }, counted({ status: 200, body: { who: 'a' } }));
    const b = await s.once('fp-b', 'k1', { units: 3 }, counted({ status: 200, body: { who: 'b' } }));
    expect(b).to.deep.equal({ response: { status: 200, body: { who: 'b' } }, replayed: false });
  });

  it('lets a record expire: after the TTL the key runs again, also with another body', async function () {
    const s = store({ ttlMs: 5_000 });
    await s.once('fp', 'k1', { units: 2 }, counted({ status: 200, body: { n: 1 } }));
    clock += 4_999;
    const early = counted({ status: 200, body: { n: 2 } });
    expect((await s.once('fp', 'k1', { units: 2 }, early)).replayed).to.equal(true);
    clock += 1;
    const late = counted({ status: 200, body: { n: 3 } });
    expect(await s.once('fp', 'k1', { units: 9 }, late)).to.deep.equal({
      response: { status: 200, body: { n: 3 } },
      replayed: false,
    });
    expect([early.calls, late.calls]).to.deep.equal([0, 1]);
  });

  it('refuses a key whose first request was running when the gateway stopped (outcome unknown)', async function () {
    const a = store();
    // The first request never finishes in this process: the gateway stops while it runs.
    void a.once('fp', 'k1', { units: 2 }, () => new Promise<StoredResponse>(() => undefined));
    await Promise.resolve();
    a.close();
    const run = counted({ status: 200, body: {} });
    const refused = await refusal(store().once('fp', 'k1', { units: 2 }, run));
    expect(refused.code).to.equal('ALREADY_EXISTS');
    expect(refused.message).to.equal(
      'ALREADY_EXISTS: Idempotency-Key k1 was taken by a request whose outcome is unknown (the gateway stopped while it ran): read the ledger, then send with a new key',
    );
    expect(run.calls).to.equal(0);
  });

  it('keeps a record running when its request ends after the store closed (shutdown): the key is refused later', async function () {
    const a = store();
    let finish: (r: StoredResponse) => void = () => undefined;
    const first = a.once('fp', 'k1', { units: 2 }, () => new Promise<StoredResponse>((r) => (finish = r)));
    a.close();
    finish({ status: 200, body: { late: true } });
    expect((await first).response.body).to.deep.equal({ late: true });
    const run = counted({ status: 200, body: {} });
    expect((await refusal(store().once('fp', 'k1', { units: 2 }, run))).message).to.match(
      /outcome is unknown/,
    );
    expect(run.calls).to.equal(0);
  });

  it('refuses a file it cannot open with INVALID_ARGUMENT', function () {
    expect(
      () => new IdempotencyStore({ file: join(dir, 'missing', 'x.sqlite'), maxEntries: 1, ttlMs: 1 }),
    ).to.throw('INVALID_ARGUMENT: cannot open the idempotency store');
  });

  it('forgets 5xx outcomes and thrown errors so the key can be retried', async function () {
    const s = store();
    await s.once('fp', 'k1', {}, counted({ status: 503, body: { code: 'LEDGER_UNAVAILABLE' } }));
    await s.once('fp', 'k2', {}, () => Promise.reject(new Error('boom'))).catch(() => undefined);
    s.close();
    const retry = counted({ status: 200, body: { ok: true } });
    const again = store();
    expect((await again.once('fp', 'k1', {}, retry)).replayed).to.equal(false);
    expect((await again.once('fp', 'k2', {}, retry)).replayed).to.equal(false);
    expect(retry.calls).to.equal(2);
  });

  it('keeps at most maxEntries records, dropping the oldest first', async function () {
    const s = store({ maxEntries: 2 });
    for (const key of ['k1', 'k2', 'k3']) {
      clock += 1;
      await s.once('fp', key, {}, counted({ status: 200, body: { key } }));
    }
    const run = counted({ status: 200, body: { key: 'new' } });
    expect((await s.once('fp', 'k3', {}, run)).replayed).to.equal(true);
    expect((await s.once('fp', 'k1', { other: true }, run)).replayed).to.equal(false);
    expect(run.calls).to.equal(1);
  });

  it('a concurrent repeat waits for the running first request and gets its response', async function () {
    const s = store();
    let finish: (r: StoredResponse) => void = () => undefined;
    const first = s.once('fp', 'k1', { a: 1 }, () => new Promise<StoredResponse>((r) => (finish = r)));
    const run = counted({ status: 200, body: {} });
    const repeat = s.once('fp', 'k1', { a: 1 }, run);
    finish({ status: 200, body: { first: true } });
    expect((await repeat).response.body).to.deep.equal({ first: true });
    expect((await first).replayed).to.equal(false);
    expect(run.calls).to.equal(0);
  });

  it('stores the SHA-256 of a request, never the request itself', async function () {
    const s = store();
    const secret = 'TOP-SECRET-GEOMETRY-0123456789';
    await s.once('fp', 'k1', { files: [{ content: secret }] }, counted({ status: 200, body: {} }));
    s.close();
    for (const name of readdirSync(dir))
      expect(readFileSync(join(dir, name)).includes(secret), name).to.equal(false);
  });

  it('refuses a malformed key with INVALID_ARGUMENT', async function () {
    const run = counted({ status: 200, body: {} });
    expect(await refusal(store().once('fp', 'bad key!', {}, run))).to.deep.equal({
      code: 'INVALID_ARGUMENT',
      message: 'INVALID_ARGUMENT: Idempotency-Key: expected 1..128 characters [A-Za-z0-9._:-]',
    });
    expect(run.calls).to.equal(0);
  });
});

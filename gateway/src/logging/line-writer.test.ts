import { expect } from 'chai';
import { lineWriter } from './line-writer';

describe('lineWriter (request log lines batched off the request path)', function () {
  it('writes queued lines together, in order, and a lifecycle line at once after them', async function () {
    const writes: string[] = [];
    const lines = lineWriter({ write: (chunk) => writes.push(chunk) }, { flushMs: 20 });
    try {
      lines.later({ n: 1 });
      lines.later({ n: 2 });
      expect(writes).to.deep.equal([]);
      for (let i = 0; i < 100 && writes.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(writes).to.deep.equal(['{"n":1}\n{"n":2}\n']);
      lines.later({ n: 3 });
      lines.now({ event: 'stopped' });
      expect(writes.slice(1)).to.deep.equal(['{"n":3}\n', '{"event":"stopped"}\n']);
    } finally {
      lines.close();
    }
  });

  it('flushes when the queue reaches its byte bound, and on close', function () {
    const writes: string[] = [];
    const lines = lineWriter({ write: (chunk) => writes.push(chunk) }, { flushMs: 60_000, maxBytes: 30 });
    lines.later({ pad: 'x'.repeat(40) });
    expect(writes).to.have.length(1);
    lines.later({ n: 4 });
    expect(writes).to.have.length(1);
    lines.close();
    expect(writes).to.deep.equal([`{"pad":"${'x'.repeat(40)}"}\n`, '{"n":4}\n']);
  });
});

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { JobReport } from '../job/job-types.js';
import { parseQueuedJob, serveQueue, type QueuedJob } from './job-queue.js';

const JOB = { dsi: 'part.dsi', program: 'good.ngc', license: 'L-1', part: 'SN-1', operator: 'operator' };

describe('serveQueue: the long-running mode takes jobs from a folder', () => {
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'agent-queue-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const result = (id: string): Record<string, unknown> =>
    JSON.parse(readFileSync(join(dir, `${id}.result.json`), 'utf8')) as Record<string, unknown>;

  it('runs jobs one at a time in name order and writes each result next to it', async () => {
    writeFileSync(join(dir, '002.job.json'), JSON.stringify({ ...JOB, part: 'SN-2' }));
    writeFileSync(join(dir, '001.job.json'), JSON.stringify(JOB));
    const stop = new AbortController();
    const seen: string[] = [];
    let running = 0;
    await serveQueue({
      dir,
      signal: stop.signal,
      pollMs: 10,
      run: async (job: QueuedJob): Promise<JobReport> => {
        running++;
        expect(running).to.equal(1);
        seen.push(`${job.id}:${job.part}`);
        await new Promise((r) => setTimeout(r, 20));
        running--;
        if (seen.length === 2) stop.abort();
        return { outcome: 'refused', step: 'license', code: 'ALLOCATION_EXHAUSTED', reason: 'none left' };
      },
    });
    expect(seen).to.deep.equal(['001:SN-1', '002:SN-2']);
    expect(result('001')).to.include({ job: '001', outcome: 'refused', code: 'ALLOCATION_EXHAUSTED' });
    expect(readdirSync(dir).sort()).to.deep.equal([
      '001.job.taken',
      '001.result.json',
      '002.job.taken',
      '002.result.json',
    ]);
  });

  it('answers a malformed job with every problem named, and never runs it', async () => {
    writeFileSync(join(dir, 'bad.job.json'), JSON.stringify({ dsi: 'x.dsi', part: 7 }));
    writeFileSync(join(dir, 'junk.job.json'), '{not json');
    const stop = new AbortController();
    let runs = 0;
    await serveQueue({
      dir,
      signal: stop.signal,
      pollMs: 10,
      onEvent: (e) => {
        if (e.state === 'done' && e.job === 'junk') stop.abort();
      },
      run: () => {
        runs++;
        return Promise.reject(new Error('must not run'));
      },
    });
    expect(runs).to.equal(0);
    expect(result('bad')).to.include({ outcome: 'invalid', code: 'INVALID_ARGUMENT' });
    expect(result('bad')['reason']).to.equal(
      'program is missing (a non-empty string); license is missing (a non-empty string); part is missing (a non-empty string); operator is missing (a non-empty string)',
    );
    expect(String(result('junk')['reason'])).to.match(/^not JSON: /);
  });

  it('marks a job a crashed agent had taken as failed at start, and does not run it again', async () => {
    writeFileSync(join(dir, 'old.job.taken'), JSON.stringify(JOB));
    const stop = new AbortController();
    stop.abort();
    await serveQueue({ dir, signal: stop.signal, run: () => Promise.reject(new Error('must not run')) });
    expect(result('old')).to.include({ outcome: 'failed', code: 'JOB_CANCELLED' });
    expect(existsSync(join(dir, 'old.job.json'))).to.equal(false);
  });

  it('hands the job its cancellation: stopping the service reaches the job running', async () => {
    writeFileSync(join(dir, 'long.job.json'), JSON.stringify(JOB));
    const stop = new AbortController();
    await serveQueue({
      dir,
      signal: stop.signal,
      pollMs: 10,
      run: (_job, signal) =>
        new Promise<JobReport>((resolve) => {
          signal.addEventListener('abort', () => {
            resolve({
              outcome: 'aborted',
              buildId: 'B1',
              step: 'run',
              code: 'JOB_CANCELLED',
              reason: 'run: the agent is stopping',
            });
          });
          setTimeout(() => {
            stop.abort();
          }, 20);
        }),
    });
    expect(result('long')).to.include({ outcome: 'aborted', code: 'JOB_CANCELLED', buildId: 'B1' });
  });

  it('parses a job file, naming what is wrong', () => {
    expect(parseQueuedJob('a', JSON.stringify(JOB))).to.deep.equal({ id: 'a', ...JOB });
    expect(parseQueuedJob('a', '[]')).to.deep.equal({ problems: ['the job must be a JSON object'] });
  });
});

import { CancellationTokenSource } from 'vscode-jsonrpc';
import { describe, expect, it } from 'vitest';
import type { WorkDoneProgressValue, WorkerStatus } from '../../worker/src/protocol/workerProtocol';
import { JobRunner, percentageOf } from '../../worker/src/server/jobs';

function sink() {
  const progress: [string | number, WorkDoneProgressValue][] = [];
  const statuses: WorkerStatus[] = [];
  return {
    progress,
    statuses,
    sink: {
      progress: (t: string | number, v: WorkDoneProgressValue) => progress.push([t, v]),
      status: (s: WorkerStatus) => statuses.push(s),
    },
  };
}

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('JobRunner', () => {
  it('runs jobs one at a time in arrival order, and says so in genrep/status', async () => {
    const s = sink();
    const runner = new JobRunner(s.sink);
    const order: string[] = [];
    const gate = deferred();
    const first = runner.run('genrep/run', 'first', new CancellationTokenSource().token, undefined, async () => {
      order.push('first starts');
      await gate.promise;
      order.push('first ends');
      return 1;
    });
    const second = runner.run('genrep/scoreFiles', 'second', new CancellationTokenSource().token, undefined, () => {
      order.push('second starts');
      return Promise.resolve(2);
    });
    await new Promise((r) => setTimeout(r, 10));
    expect(runner.status()).toEqual({
      state: 'busy',
      jobs: [
        { id: 1, method: 'genrep/run', title: 'first' },
        { id: 2, method: 'genrep/scoreFiles', title: 'second' },
      ],
    });
    gate.resolve();
    expect(await Promise.all([first, second])).toEqual([1, 2]);
    expect(order).toEqual(['first starts', 'first ends', 'second starts']);
    expect(s.statuses.at(-1)).toEqual({ state: 'idle', jobs: [] });
  });

  it('lets a cancelled waiting job leave without letting the next one overtake the running one', async () => {
    const runner = new JobRunner(sink().sink);
    const gate = deferred();
    const events: string[] = [];
    const a = runner.run('genrep/run', 'a', new CancellationTokenSource().token, undefined, async () => {
      await gate.promise;
      events.push('a done');
    });
    const bSource = new CancellationTokenSource();
    const b = runner.run('genrep/run', 'b', bSource.token, undefined, () => Promise.resolve(void events.push('b ran')));
    const c = runner.run('genrep/run', 'c', new CancellationTokenSource().token, undefined, () =>
      Promise.resolve(void events.push('c ran')),
    );
    bSource.cancel();
    await expect(b).rejects.toMatchObject({ code: 'CANCELLED' });
    await new Promise((r) => setTimeout(r, 10));
    expect(events).toEqual([]); // c still waits for a
    gate.resolve();
    await Promise.all([a, c]);
    expect(events).toEqual(['a done', 'c ran']);
  });

  it('aborts the running job signal when the request is cancelled', async () => {
    const runner = new JobRunner(sink().sink);
    const source = new CancellationTokenSource();
    const seen = deferred<boolean>();
    const started = deferred();
    const job = runner.run('genrep/run', 'j', source.token, undefined, async (ctx) => {
      started.resolve();
      await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
      seen.resolve(ctx.signal.aborted);
      throw new Error('stopped');
    });
    await started.promise;
    source.cancel();
    expect(await seen.promise).toBe(true);
    await expect(job).rejects.toThrow('stopped');
  });

  it('reports begin, throttled reports with rising percentages, and end on the client token only', async () => {
    const s = sink();
    const runner = new JobRunner(s.sink);
    await runner.run('genrep/run', 'title', new CancellationTokenSource().token, 'tok', (ctx) => {
      ctx.progress({ stage: 'discover', done: 0, total: 1, message: 'discovering' });
      for (let i = 1; i <= 1000; i++) ctx.progress({ stage: 'extract', done: i, total: 1000, message: `${i}` });
      ctx.progress({ stage: 'write', done: 1, total: 1, message: 'written' });
      return Promise.resolve();
    });
    const values = s.progress.map(([t, v]) => {
      expect(t).toBe('tok');
      return v;
    });
    expect(values[0]).toEqual({ kind: 'begin', title: 'title', cancellable: true, percentage: 0 });
    expect(values.at(-1)).toEqual({ kind: 'end', message: 'done' });
    const reports = values.filter((v) => v.kind === 'report');
    expect(reports.length).toBeLessThan(20); // 1002 calls, throttled
    expect(reports.some((r) => r.kind === 'report' && r.stage === 'extract' && r.done === 1000)).toBe(true); // the last of a stage always goes
    const pct = reports.map((r) => (r.kind === 'report' ? r.percentage! : 0));
    expect(pct).toEqual([...pct].sort((x, y) => x - y));
    expect(pct.at(-1)).toBe(100);

    const silent = sink();
    await new JobRunner(silent.sink).run('genrep/run', 't', new CancellationTokenSource().token, undefined, (ctx) =>
      Promise.resolve(ctx.progress({ stage: 'extract', done: 1, total: 2, message: '' })),
    );
    expect(silent.progress).toEqual([]);
  });

  it('weights stages so that extraction fills most of the bar', () => {
    expect(percentageOf({ stage: 'discover', done: 1, total: 1, message: '' })).toBe(2);
    expect(percentageOf({ stage: 'extract', done: 50, total: 100, message: '' })).toBe(45);
    expect(percentageOf({ stage: 'score', done: 0, total: 0, message: '' })).toBe(88);
    expect(percentageOf({ stage: 'download', done: 3, total: 4, message: '' })).toBe(75);
  });
});

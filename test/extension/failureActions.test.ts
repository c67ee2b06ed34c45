import { describe, expect, it } from 'vitest';
import {
  actionLabel,
  checkpointTarget,
  featuresKeptAfter,
  presentFailure,
  type FailureView,
} from '../../extension/src/errorPresentation';
import { WORKER_ERROR_CODES } from '../../worker/src/protocol/errors';

/** The worker's error for a download without a network (worker/src/models/download.ts, request()). */
const offline = {
  code: WORKER_ERROR_CODES.NOT_FOUND,
  message:
    'download of BEATs_iter3_plus_AS2M.pt failed: getaddrinfo ENOTFOUND msranlcmtteamdrive.blob.core.windows.net ' +
    '(https://msranlcmtteamdrive.blob.core.windows.net/…); try again later or from another mirror',
  data: { code: 'NOT_FOUND', file: '/home/me/.cache/genrep/models/BEATs_iter3_plus_AS2M.pt' },
};
const download = {
  kind: 'download',
  name: 'beats',
  file: 'BEATs_iter3_plus_AS2M.pt',
  modelDir: '/home/me/.cache/genrep/models',
} as const;
const labels = (view: FailureView): string[] => view.actions.map((a) => actionLabel(a, view));

describe('what each failure offers next', () => {
  it('an offline download: where to put the file, the models folder, a local .pt, fbank-stats, retry', () => {
    const view = presentFailure('Downloading beats', offline, download);
    expect(view.message).toContain(
      'Downloading beats failed: download of BEATs_iter3_plus_AS2M.pt failed: getaddrinfo',
    );
    expect(view.message).toContain('place it at /home/me/.cache/genrep/models/BEATs_iter3_plus_AS2M.pt');
    expect(view.message).toContain('use fbank-stats');
    expect(labels(view)).toEqual(['Open Models Folder', 'Choose a Local .pt…', 'Use fbank-stats', 'Retry']);
    expect(view.checkpoint).toEqual({
      name: 'beats',
      target: '/home/me/.cache/genrep/models/BEATs_iter3_plus_AS2M.pt',
      modelDir: '/home/me/.cache/genrep/models',
    });
    // Without the context the same error only offers a download, which is what just failed.
    expect(presentFailure('Downloading beats', offline).actions).toEqual(['downloadCheckpoint']);
  });

  it('a cancelled download resumes; a worker lost under it says so', () => {
    const cancelled = presentFailure(
      'Downloading beats',
      { code: -32800, message: 'download of BEATs_iter3_plus_AS2M.pt cancelled', data: { code: 'CANCELLED' } },
      download,
    );
    expect(cancelled).toMatchObject({ severity: 'info', cancelled: true, actions: ['retry'] });
    expect(labels(cancelled)).toEqual(['Retry']);
    const lost = presentFailure('Downloading beats', new Error('Connection is closed.'), download);
    expect(lost).toMatchObject({ workerLost: true, actions: ['retry', 'showLog'] });
  });

  it('a cancelled run: Run Again, saying how many clips it kept', () => {
    const err = { code: -32800, message: 'cancelled', data: { code: 'CANCELLED' } };
    const view = presentFailure('Running demo.genrep.json', err, { kind: 'run', featuresKept: 120 });
    expect(view).toMatchObject({ severity: 'info', cancelled: true, actions: ['retry'], featuresKept: 120 });
    expect(view.message).toBe(
      'Running demo.genrep.json cancelled. The features of 120 clips are cached, so running again resumes from there.',
    );
    expect(labels(view)).toEqual(['Run Again (120 features kept)']);
    const early = presentFailure('Running demo.genrep.json', err, { kind: 'run' });
    expect(labels(early)).toEqual(['Run Again']);
  });

  it('a failed run: Show Log, after the fixes that apply', () => {
    const range = { start: { line: 4, character: 10 }, end: { line: 4, character: 14 } };
    const view = presentFailure(
      'Running demo.genrep.json',
      {
        code: WORKER_ERROR_CODES.BAD_INPUT,
        message: '/w/demo.genrep.json:5:11: /mixup/K_s: 5000 exceeds the 40 source clips of fan',
        data: { code: 'BAD_INPUT', file: '/w/demo.genrep.json', field: '/mixup/K_s', range },
      },
      { kind: 'run' },
    );
    expect(view.actions).toEqual(['openLocation', 'showLog']);
    expect(labels(view)).toEqual(['Open File', 'Show Log']);
    const internal = presentFailure('Running demo.genrep.json', { code: -32603, message: 'x' }, { kind: 'run' });
    expect(internal.actions).toEqual(['showLog', 'restartWorker']);
  });

  it('counts kept features from the extract stage only, keeping the last count through later stages', () => {
    let kept: number | undefined;
    kept = featuresKeptAfter(kept, { kind: 'begin' });
    expect(kept).toBeUndefined();
    kept = featuresKeptAfter(kept, { kind: 'report', stage: 'discover', done: 1 });
    expect(kept).toBeUndefined();
    kept = featuresKeptAfter(kept, { kind: 'report', stage: 'extract', done: 64 });
    kept = featuresKeptAfter(kept, { kind: 'report', stage: 'extract', done: 128 });
    kept = featuresKeptAfter(kept, { kind: 'report', stage: 'score', done: 1 });
    kept = featuresKeptAfter(kept, { kind: 'end' });
    expect(kept).toBe(128);
  });

  it('joins the checkpoint target with the model folder own separator', () => {
    expect(checkpointTarget('/m/', 'a.pt')).toBe('/m/a.pt');
    expect(checkpointTarget('C:\\Users\\me\\models', 'a.pt')).toBe('C:\\Users\\me\\models\\a.pt');
  });
});

import { GenrepError } from '../../errors';
import { explainClipWithBank } from '../../explain/explainClip';
import { explainClipOfRun } from '../../explain/explainRun';
import type { ExplainResult } from '../../protocol/explain';
import type { ExplainClipParams } from '../../protocol/workerProtocol';
import type { Settings } from '../../settings';
import type { JobContext } from '../jobs';

/** genrep/explainClip: against a saved bank (`bankFile`) or as a run scored it (`resultsFile`), cancellable. */
export function explainClip(params: ExplainClipParams, job: JobContext, settings: Settings): Promise<ExplainResult> {
  const common = {
    clip: params.clip,
    ...(params.neighbours !== undefined ? { neighbours: params.neighbours } : {}),
    settings,
    signal: job.signal,
    onProgress: (message: string) => job.progress({ stage: 'score', done: 0, total: 1, message }),
  };
  if (params.bankFile !== undefined && params.resultsFile !== undefined) {
    throw new GenrepError('genrep/explainClip: give bankFile or resultsFile, not both', 'BAD_INPUT', {
      field: 'bankFile',
    });
  }
  if (params.bankFile !== undefined) {
    if (params.dn === 'transductive') {
      throw new GenrepError(
        'genrep/explainClip: a clip against a bank uses inductive or none DN (transductive needs a test set)',
        'BAD_INPUT',
        { field: 'dn', expected: 'inductive | none' },
      );
    }
    return explainClipWithBank({
      ...common,
      bankFile: params.bankFile,
      ...(params.dn !== undefined ? { dn: params.dn } : {}),
      ...(params.embedder !== undefined ? { embedder: params.embedder } : {}),
      ...(params.datasetRoot !== undefined ? { datasetRoot: params.datasetRoot } : {}),
    });
  }
  if (params.resultsFile !== undefined) {
    return explainClipOfRun({
      ...common,
      resultsFile: params.resultsFile,
      ...(params.variant !== undefined ? { variant: params.variant } : {}),
    });
  }
  throw new GenrepError('genrep/explainClip: give bankFile (a .grbank) or resultsFile (a results.json)', 'BAD_INPUT', {
    field: 'bankFile',
  });
}

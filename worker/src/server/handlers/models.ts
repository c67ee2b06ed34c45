import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { downloadCheckpoint as download } from '../../models/download';
import { knownModels, modelEntry, publishedChecks } from '../../models/manifest';
import type {
  DownloadCheckpointParams,
  DownloadCheckpointResult,
  ListModelsResult,
} from '../../protocol/workerProtocol';
import type { Settings } from '../../settings';
import type { JobContext } from '../jobs';

/** genrep/listModels: the known checkpoints and whether each is in the model folder (params' own, if given). */
export function listModels(settings: Settings): ListModelsResult {
  const { modelDir } = settings;
  const models = [...knownModels().values()].map((m) => {
    const file = path.join(modelDir, m.file);
    return { name: m.name, file: m.file, role: m.role, bestLayer: m.bestLayer, present: existsSync(file), path: file };
  });
  return { modelDir, models };
}

/** genrep/downloadCheckpoint: the resumable download of `genrep model download`, reporting bytes as progress. */
export async function downloadCheckpoint(
  params: DownloadCheckpointParams,
  job: JobContext,
  settings: Settings,
): Promise<DownloadCheckpointResult> {
  const entry = modelEntry(params.name);
  const mib = (n: number): string => (n / 1048576).toFixed(1);
  return download({
    dir: settings.modelDir,
    file: entry.file,
    url: entry.url,
    published: publishedChecks(entry),
    signal: job.signal,
    onProgress: (received, total) =>
      job.progress({
        stage: 'download',
        done: received,
        total: total ?? 0,
        message: total ? `${entry.file}: ${mib(received)} of ${mib(total)} MiB` : `${entry.file}: ${mib(received)} MiB`,
      }),
  });
}

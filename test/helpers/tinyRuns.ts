import * as path from 'node:path';
import type { BuildBankParams } from '../../worker/src/protocol/workerProtocol';

/**
 * A run over the tiny data set in `data/` (test/helpers/tinyDataset.ts) with fbank-stats features, one clip a batch
 * (cancellation and crashes land between clips, and each clip is cached as soon as it is done), caching in `cache/`
 * and writing to `out/`.
 */
export const CLIP_BY_CLIP_RUN = {
  dataset: { root: 'data' },
  embedder: 'fbank-stats',
  mixup: { K_s: 5, lambda: 0.9 },
  batchSize: 1,
  cacheDir: 'cache',
  output: 'out',
};

/** What a bank is built from and written to: the request's parameters without the progress token. */
export type BankRecipe = Pick<
  BuildBankParams,
  'root' | 'machineType' | 'embedder' | 'layer' | 'pooling' | 'K_n' | 'mixup' | 'out'
>;

/** A fan bank at layer 1 of fbank-stats with K_n = 1 and MemMixup K_s, from the tiny data set in `dir`/data. */
export function fanBankRecipe(dir: string, out: string, K_s: number): BankRecipe {
  const mixup = { K_s, lambda: 0.9 };
  return {
    root: path.join(dir, 'data'),
    machineType: 'fan',
    embedder: 'fbank-stats',
    layer: 1,
    pooling: 'temporal',
    K_n: 1,
    mixup,
    out,
  };
}

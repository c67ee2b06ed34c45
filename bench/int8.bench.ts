/**
 * `npm run bench:int8`: how far `--int8` moves BEATs features and scores, measured as docs/int8.md reports it.
 * Pooled-feature cosine of int8 against fp32, per layer (worst clip and mean), on the 11 real fixture clips, for the
 * full-size model with random weights drawn with seed 7 (bench:beats draws seed 1, so neither figure is tuned on the
 * other) — the tiny model's figures are measured by test/beats/int8Quality.test.ts.
 * Options: --layers 1,6,12 (default 1-12), --threads N (default 2).
 */
import * as path from 'node:path';
import type * as ConfigModule from '../worker/src/beats/config';
import type * as QualityModule from '../worker/src/beats/int8Quality';
import type * as CheckpointModule from '../worker/src/checkpoint';
import type * as RandomModule from '../worker/src/beats/randomWeights';
import { builtWorker } from './builtWorker';

const { BEATS_OFFICIAL } = builtWorker<typeof ConfigModule>('beats/config');
const { fixtureClipFbanks, int8LayerCosines, int8ScoreChange } = builtWorker<typeof QualityModule>('beats/int8Quality');
const { readCheckpoint } = builtWorker<typeof CheckpointModule>('checkpoint');
const { randomBeatsWeights } = builtWorker<typeof RandomModule>('beats/randomWeights');

function argument(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1]! : fallback;
}
const LAYERS = argument('--layers', '1,2,3,4,5,6,7,8,9,10,11,12').split(',').map(Number);
const THREADS = Number(argument('--threads', '2'));
const SEED = 7;
const FIXTURES = path.join(__dirname, '..', '..', 'test', 'fixtures');

async function main(): Promise<void> {
  const fbanks = await fixtureClipFbanks(FIXTURES);
  console.log(
    `int8 vs fp32, BEATs full size (12 × 768), random weights seed ${SEED}, ${fbanks.length} real clips, temporal pooling`,
  );
  const started = performance.now();
  const rows = await int8LayerCosines(
    { file: 'random.pt', cfg: { ...BEATS_OFFICIAL }, tensors: randomBeatsWeights(BEATS_OFFICIAL, SEED) },
    fbanks,
    LAYERS,
    THREADS,
  );
  console.log('| layer | worst clip | mean |');
  console.log('|---|---|---|');
  for (const r of rows) console.log(`| ${r.layer} | ${r.min.toFixed(5)} | ${r.mean.toFixed(5)} |`);
  console.log(`(${((performance.now() - started) / 1000).toFixed(0)} s)`);

  const synth = { machine: 'fan', seed: 0, sizes: { trainSource: 20, trainTarget: 4, testPerGroup: 8 } };
  const fmt = (x: number | undefined) => (x === undefined ? '-' : x.toFixed(4));
  const table = async (label: string, weights: Parameters<typeof int8ScoreChange>[0], layers: readonly number[]) => {
    const t = performance.now();
    const scores = await int8ScoreChange(weights, layers, synth, THREADS);
    console.log(`\n${label}: synthetic fan (seed 0, 24 train / 32 test clips), nearest-neighbour distance, no DN`);
    console.log('| layer | AUC fp32 | AUC int8 | official fp32 | official int8 | Δ official |');
    console.log('|---|---|---|---|---|---|');
    for (const s of scores)
      console.log(
        `| ${s.layer} | ${fmt(s.fp32.auc)} | ${fmt(s.int8.auc)} | ${fmt(s.fp32.official)} | ${fmt(s.int8.official)} | ${fmt(s.int8.official! - s.fp32.official!)} |`,
      );
    console.log(`(${((performance.now() - t) / 1000).toFixed(0)} s)`);
  };
  await table(
    'tiny checkpoint',
    await readCheckpoint(path.join(FIXTURES, 'golden-beats-tiny', 'checkpoint.pt')),
    [1, 2],
  );
  await table(
    `full size, random weights seed ${SEED}`,
    { file: 'random.pt', cfg: { ...BEATS_OFFICIAL }, tensors: randomBeatsWeights(BEATS_OFFICIAL, SEED) },
    LAYERS,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

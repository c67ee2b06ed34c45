import type { LoadedConfig } from '../../config/loadConfig';
import { CellGrid, type CellKey } from '../cellGrid';
import { throwIfCancelled } from '../extract';
import { sampleTraining } from '../lowShot';
import type { RunProgress } from '../runContext';
import { checkCell } from '../scoreMachineLayer';
import { scoreCells, type CellJob } from '../scorePool';
import { variantId, type Variant } from '../variants';
import type { RunFeatures } from './extract';

export interface ScoreGridStage {
  loaded: LoadedConfig;
  features: RunFeatures;
  variants: Variant[];
  /** Scoring threads (settings.threads); undefined = every core up to 8, 1 = in this thread. */
  threads: number | undefined;
  signal: AbortSignal | undefined;
  progress: (p: RunProgress) => void;
}

/**
 * Stage 3: every cell of machine type × layer × low-shot seed × variant scored (scoreMachineLayer.ts), independent
 * cells on a pool of threads (scorePool.ts). A low-shot sample is drawn once per machine type, layer and seed, and
 * shared by the variants. Progress counts finished cells.
 */
export async function scoreGrid(stage: ScoreGridStage): Promise<CellGrid> {
  const { features, variants, progress } = stage;
  const lowShot = stage.loaded.config.lowShot;
  const grid = new CellGrid({
    machines: features.machines,
    layers: features.layers,
    variants,
    seeds: lowShot ? lowShot.seeds : [null],
  });
  const totalCells = features.machines.length * features.layers.length * variants.length * grid.axes.seeds.length;
  let doneCells = 0;
  await scoreCells(cellJobs(stage, grid.axes.seeds), {
    threads: stage.threads,
    total: totalCells,
    signal: stage.signal,
    onDone: (key, cell) => {
      grid.set(key, cell);
      doneCells++;
      progress({
        stage: 'score',
        done: doneCells,
        total: totalCells,
        message: `scoring ${key.machineType} layer ${key.layer} (${variantId(key.variant)})`,
      });
    },
  });
  return grid;
}

/**
 * The grid's cells in the order a sequential run scores them, each gathered and checked (config errors raised here,
 * in that order) only when the pool asks for it. The last cell to read a feature array moves it to its thread.
 */
function* cellJobs(stage: ScoreGridStage, seeds: readonly (number | null)[]): Generator<CellJob<CellKey>> {
  const { loaded, features, variants, signal } = stage;
  const { config } = loaded;
  const lowShot = config.lowShot;
  for (const machine of features.machines) {
    for (const layer of features.layers) {
      const testFeatures = features.rows(machine.test, layer);
      for (const [s, seed] of seeds.entries()) {
        const trainClips =
          seed === null || lowShot === undefined ? machine.train : sampleTraining(machine, lowShot, seed, loaded);
        const trainFeatures = features.rows(trainClips, layer);
        for (const [v, variant] of variants.entries()) {
          throwIfCancelled(signal);
          const task = checkCell({
            machineType: machine.machineType,
            train: trainFeatures,
            trainClips,
            test: testFeatures,
            testClips: machine.test,
            dim: features.dim,
            layer,
            dn: variant.dn,
            mixup: variant.mixup,
            K_n: config.K_n,
            index: config.index,
            locate: loaded.locate,
          });
          const lastVariant = v === variants.length - 1;
          const transfer = [
            ...(lastVariant ? [trainFeatures.buffer as ArrayBuffer] : []),
            ...(lastVariant && s === seeds.length - 1 ? [testFeatures.buffer as ArrayBuffer] : []),
          ];
          const name = `${machine.machineType} layer ${layer} (${variantId(variant)})`;
          yield { key: { machineType: machine.machineType, layer, variant, seed }, task, transfer, name };
        }
      }
    }
  }
}

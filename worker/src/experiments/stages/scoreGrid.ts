import type { LoadedConfig } from '../../config/loadConfig';
import { CellGrid } from '../cellGrid';
import { throwIfCancelled } from '../extract';
import { sampleTraining } from '../lowShot';
import type { RunProgress } from '../runContext';
import { scoreCell } from '../scoreMachineLayer';
import { variantId, type Variant } from '../variants';
import type { RunFeatures } from './extract';

export interface ScoreGridStage {
  loaded: LoadedConfig;
  features: RunFeatures;
  variants: Variant[];
  signal: AbortSignal | undefined;
  progress: (p: RunProgress) => void;
}

/**
 * Stage 3: every cell of machine type × layer × low-shot seed × variant scored (scoreMachineLayer.ts). A low-shot
 * sample is drawn once per machine type, layer and seed, and shared by the variants.
 */
export async function scoreGrid({ loaded, features, variants, signal, progress }: ScoreGridStage): Promise<CellGrid> {
  const { config } = loaded;
  const { machines, layers, dim } = features;
  const lowShot = config.lowShot;
  const grid = new CellGrid({ machines, layers, variants, seeds: lowShot ? lowShot.seeds : [null] });
  const totalCells = machines.length * layers.length * variants.length * grid.axes.seeds.length;
  let doneCells = 0;
  for (const machine of machines) {
    for (const layer of layers) {
      const testFeatures = features.rows(machine.test, layer);
      for (const seed of grid.axes.seeds) {
        const trainClips =
          seed === null || lowShot === undefined ? machine.train : sampleTraining(machine, lowShot, seed, loaded);
        const trainFeatures = features.rows(trainClips, layer);
        for (const variant of variants) {
          throwIfCancelled(signal);
          const cell = await scoreCell({
            machineType: machine.machineType,
            train: trainFeatures,
            trainClips,
            test: testFeatures,
            testClips: machine.test,
            dim,
            layer,
            dn: variant.dn,
            mixup: variant.mixup,
            K_n: config.K_n,
            index: config.index,
            locate: loaded.locate,
          });
          grid.set({ machineType: machine.machineType, layer, variant, seed }, cell);
          doneCells++;
          progress({
            stage: 'score',
            done: doneCells,
            total: totalCells,
            message: `scoring ${machine.machineType} layer ${layer} (${variantId(variant)})`,
          });
        }
      }
    }
  }
  return grid;
}

import type { LoadedConfig } from '../config/loadConfig';
import type { Clip, MachineSet } from '../datasets';
import { GenrepError } from '../errors';
import { Random } from '../synth/random';

/**
 * Low-shot training sets (the paper's Table 4): k clips per machine type (IDs pooled, no stratification, as the
 * reference samples) or floor(fraction · n), drawn without replacement. The draw uses our own seeded generator
 * (the synthesiser's xoshiro128**, keyed by seed and machine type, + a partial Fisher–Yates shuffle), not NumPy's
 * Mersenne Twister, so the same seed picks different clips
 * than the reference; averages over seeds are comparable, single draws are not. The sample keeps dataset order.
 */
export function sampleTraining(
  machine: MachineSet,
  lowShot: { k?: number; fraction?: number },
  seed: number,
  loaded: LoadedConfig,
): Clip[] {
  const n = machine.train.length;
  const k = lowShot.k ?? Math.floor((lowShot.fraction ?? 1) * n);
  if (lowShot.k !== undefined && lowShot.k > n) {
    throw new GenrepError(
      `${loaded.locate('/lowShot/k')}: /lowShot/k: k = ${lowShot.k} but ${machine.machineType} has only ${n} training clips`,
      'BAD_INPUT',
      {
        field: '/lowShot/k',
        expected: `<= ${n}`,
      },
    );
  }
  if (k < 1) {
    throw new GenrepError(
      `${loaded.locate('/lowShot/fraction')}: /lowShot/fraction: selects no training clip of ${machine.machineType} (${n} clips)`,
      'BAD_INPUT',
      {
        field: '/lowShot/fraction',
      },
    );
  }
  // Keyed per machine type, so adding or removing another machine type does not change this one's sample.
  const random = new Random(`low-shot:${seed}:${machine.machineType}`);
  const idx = Array.from({ length: n }, (_, i) => i);
  // i < k <= n and i <= j < n index idx (length n); the sample's indices are < n = machine.train.length.
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(random.uniform() * (n - i));
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return idx
    .slice(0, k)
    .sort((a, b) => a - b)
    .map((i) => machine.train[i]!);
}

import type { LoadedConfig } from '../config/loadConfig';
import type { Clip, MachineSet } from '../datasets';
import { GenrepError } from '../errors';

/**
 * Low-shot training sets (the paper's Table 4): k clips per machine type (IDs pooled, no stratification, as the
 * reference samples) or floor(fraction · n), drawn without replacement. The draw uses our own seeded generator
 * (mulberry32 + a partial Fisher–Yates shuffle), not NumPy's Mersenne Twister, so the same seed picks different clips
 * than the reference; averages over seeds are comparable, single draws are not. The sample keeps dataset order.
 */
export function sampleTraining(machine: MachineSet, lowShot: { k?: number; fraction?: number }, seed: number, loaded: LoadedConfig): Clip[] {
  const n = machine.train.length;
  const k = lowShot.k ?? Math.floor((lowShot.fraction ?? 1) * n);
  if (lowShot.k !== undefined && lowShot.k > n) {
    throw new GenrepError(`${loaded.locate('/lowShot/k')}: /lowShot/k: k = ${lowShot.k} but ${machine.machineType} has only ${n} training clips`, 'BAD_INPUT', {
      field: '/lowShot/k',
      expected: `<= ${n}`,
    });
  }
  if (k < 1) {
    throw new GenrepError(`${loaded.locate('/lowShot/fraction')}: /lowShot/fraction: selects no training clip of ${machine.machineType} (${n} clips)`, 'BAD_INPUT', {
      field: '/lowShot/fraction',
    });
  }
  const rand = mulberry32(seedFor(seed, machine.machineType));
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(rand() * (n - i));
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return idx
    .slice(0, k)
    .sort((a, b) => a - b)
    .map((i) => machine.train[i]!);
}

/** Per machine type, so adding or removing another machine type does not change this one's sample. */
function seedFor(seed: number, machineType: string): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (let i = 0; i < machineType.length; i++) h = Math.imul(h ^ machineType.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

import type { BeatsConfig } from './config';
import type { WeightTensor } from './stateDict';
import { expectedShapes } from './stateDict';
import { mulberry32 } from '../util/mulberry32';

/**
 * A BEATs-shaped state dict with seeded random weights, for tests and benchmarks of the full-size graph (the real
 * checkpoints cannot ship with the project). Scales keep activations in a realistic range: linear and conv
 * weights uniform with variance 1/fan_in, LayerNorm gains near 1, biases and gates small.
 */
export function randomBeatsWeights(cfg: BeatsConfig, seed = 1): Map<string, WeightTensor> {
  const next = mulberry32(seed);
  const tensors = new Map<string, WeightTensor>();
  for (const [key, shape] of expectedShapes(cfg)) {
    const count = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(count);
    let centre = 0;
    let spread: number;
    if (key.endsWith('norm.weight')) {
      centre = 1;
      spread = 0.1;
    } else if (key.endsWith('weight_g')) {
      centre = 1;
      spread = 0.2;
    } else if (key.endsWith('.bias') || key.endsWith('grep_a')) {
      spread = 0.05;
      if (key.endsWith('grep_a')) centre = 1;
    } else if (key.includes('relative_attention_bias')) {
      spread = 0.5;
    } else {
      const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
      spread = Math.sqrt(3 / fanIn);
    }
    for (let i = 0; i < count; i++) data[i] = centre + (2 * next() - 1) * spread;
    tensors.set(key, { shape: [...shape], data });
  }
  return tensors;
}

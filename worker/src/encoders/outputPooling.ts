/**
 * From an encoder's outputs to one vector per clip and layer. Every output, whatever its layout, is brought to
 * [T, F, D] tokens per clip and layer (a vector: T = F = 1; a sequence: F = 1), window outputs stacked along T;
 * then pooled as the run's Pooling vocabulary says (protocol/vocabulary.ts), with `statistics: 'mean+std'` adding
 * the population standard deviation over the same tokens, concatenated after the mean.
 */

import { GenrepError } from '../errors';
import type { EncoderDescriptor } from '../protocol/encoderDescriptor';
import type { Pooling } from '../protocol/vocabulary';

/** One clip's tokens for one layer, row-major [T × F × D]. */
export interface Tokens {
  data: Float32Array;
  T: number;
  F: number;
  D: number;
}

export type Statistics = NonNullable<EncoderDescriptor['statistics']>;

/** What an output's tokens look like, known at creation: F and D from the model, T only when every clip has the same. */
export interface TokenShape {
  F: number;
  D: number;
  /** Whether the output has a frequency axis (a grid). */
  grid: boolean;
  /** Tokens along time per clip when every clip has as many (fixed length), else undefined. */
  fixedT: number | undefined;
}

/** Why `pooling` does not apply to an output of this shape, or undefined when it does. */
export function poolingMisfit(shape: TokenShape, pooling: Pooling): string | undefined {
  if (pooling !== 'spectral') return undefined;
  if (!shape.grid) return 'which has no frequency axis (spectral pooling averages a grid over frequency)';
  if (shape.fixedT === undefined) {
    return "whose clips vary in length (spectral pooling keeps time, so it needs a fixed length: length mode 'exact')";
  }
  return undefined;
}

/** Length of one clip's vector. temporal keeps F·D (frequency-major, as BEATs), spectral T·D, spatial D. */
export function pooledDim(shape: TokenShape, pooling: Pooling, statistics: Statistics = 'mean'): number {
  const misfit = poolingMisfit(shape, pooling);
  if (misfit !== undefined)
    throw new GenrepError(`pooling '${pooling}' does not apply to an output ${misfit}`, 'BAD_INPUT');
  const base = pooling === 'temporal' ? shape.F * shape.D : pooling === 'spectral' ? shape.fixedT! * shape.D : shape.D;
  return statistics === 'mean+std' ? 2 * base : base;
}

/** Stacks window outputs along time. */
export function stackTime(parts: readonly Tokens[]): Tokens {
  const [first] = parts;
  if (first === undefined) throw new GenrepError('no window outputs to stack', 'INTERNAL');
  if (parts.length === 1) return first;
  const T = parts.reduce((sum, p) => sum + p.T, 0);
  const data = new Float32Array(T * first.F * first.D);
  let offset = 0;
  for (const part of parts) {
    data.set(part.data, offset);
    offset += part.data.length;
  }
  return { data, T, F: first.F, D: first.D };
}

/**
 * Pools one clip's tokens. Groups: temporal averages over T for each (f, d); spectral over F for each (t, d);
 * spatial over all T·F tokens for each d. mean+std appends each group's population std.
 */
export function poolTokens(tokens: Tokens, pooling: Pooling, statistics: Statistics = 'mean'): Float32Array {
  const { data, T, F, D } = tokens;
  // Output slot of token (t, f) channel d, and how many tokens share a slot.
  const slots = pooling === 'temporal' ? F * D : pooling === 'spectral' ? T * D : D;
  const count = pooling === 'temporal' ? T : pooling === 'spectral' ? F : T * F;
  const slotOf = (t: number, f: number): number =>
    pooling === 'temporal' ? f * D : pooling === 'spectral' ? t * D : 0;
  const sum = new Float64Array(slots);
  const sumSq = new Float64Array(slots);
  for (let t = 0; t < T; t++) {
    for (let f = 0; f < F; f++) {
      const base = slotOf(t, f);
      const at = (t * F + f) * D;
      // base + d < slots and at + d < T·F·D = data.length: d < D, and base, at index whole D-rows.
      for (let d = 0; d < D; d++) {
        const x = data[at + d]!;
        sum[base + d]! += x;
        sumSq[base + d]! += x * x;
      }
    }
  }
  const withStd = statistics === 'mean+std';
  const out = new Float32Array(withStd ? 2 * slots : slots);
  // i < slots = sum.length = sumSq.length, and slots + i < out.length when the std half exists.
  for (let i = 0; i < slots; i++) {
    const mean = sum[i]! / count;
    out[i] = mean;
    if (withStd) out[slots + i] = Math.sqrt(Math.max(0, sumSq[i]! / count - mean * mean));
  }
  return out;
}

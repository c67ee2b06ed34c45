import type { WeightTensor } from './stateDict';

const f32 = Math.fround;

/**
 * T5-style bidirectional bucket of a relative position r = key − query (docs/beats.md, "The graph": relative position bias), with the reference's
 * float32 arithmetic: half the buckets for r > 0, exact buckets below max_exact, logarithmic ones up to
 * max_distance, clamped to the last bucket beyond it.
 */
export function relativePositionBucket(relativePosition: number, numBuckets: number, maxDistance: number): number {
  const half = Math.floor(numBuckets / 2);
  let bucket = relativePosition > 0 ? half : 0;
  const distance = Math.abs(relativePosition);
  const maxExact = Math.floor(half / 2);
  if (distance < maxExact) return bucket + distance;
  const logRatio = f32(Math.log(f32(distance / maxExact)));
  const scaled = f32(f32(logRatio / f32(Math.log(maxDistance / maxExact))) * (half - maxExact));
  bucket += Math.min(maxExact + Math.trunc(scaled), half - 1);
  return bucket;
}

/**
 * The attention bias every layer adds, [H, N, N] with bias[h, i, j] = table[bucket(j − i), h], from layer 0's
 * relative_attention_bias table [num_buckets, H]. The token count is fixed by the 10 s input, so the whole tensor
 * is a constant of the graph.
 */
export function relativePositionBias(table: WeightTensor, tokens: number, maxDistance: number): Float32Array {
  const [numBuckets, heads] = table.shape as [number, number];
  const bucketOf = new Int32Array(2 * tokens - 1); // index r + tokens − 1
  for (let r = -(tokens - 1); r < tokens; r++)
    bucketOf[r + tokens - 1] = relativePositionBucket(r, numBuckets, maxDistance);
  const bias = new Float32Array(heads * tokens * tokens);
  // j − i + tokens − 1 ∈ [0, 2·tokens − 2] indexes bucketOf; a bucket is < numBuckets, so bucket·heads + h is inside
  // the [numBuckets, heads] table (its shape was checked against the cfg).
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < tokens; i++) {
      const row = (h * tokens + i) * tokens;
      for (let j = 0; j < tokens; j++) bias[row + j] = table.data[bucketOf[j - i + tokens - 1]! * heads + h]!;
    }
  }
  return bias;
}

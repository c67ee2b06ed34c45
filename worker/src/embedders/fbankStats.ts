import { GenrepError } from '../errors';
import { BEATS_SAMPLES, beatsFbank } from '../fbank';
import type { Pooling } from '../protocol/vocabulary';
import { forEachBatch } from './batching';
import { checkPooling } from './pooling';
import type { Embedder, EmbedOptions } from './types';

export const FBANK_STATS_DIM = 256;

/**
 * The weight-free default embedder: for each of the 128 mel bins of the BEATs-normalised fbank (first 10 s,
 * zero-padded), the mean and the standard deviation over the 998 frames, as [means(128), stds(128)]. A weak but
 * honest baseline that runs on a fresh machine with nothing downloaded.
 */
export class FbankStatsEmbedder implements Embedder {
  readonly id = 'fbank-stats:v1';
  readonly numLayers = 1;
  readonly provider = 'js';
  readonly clipSamples = BEATS_SAMPLES;

  dim(pooling: Pooling): number {
    checkFbankStatsPooling(pooling);
    return FBANK_STATS_DIM;
  }

  async embed(clips: readonly Float32Array[], options: EmbedOptions): Promise<Float32Array[]> {
    checkFbankStatsPooling(options.pooling);
    for (const layer of options.layers) {
      if (layer !== 1) {
        throw new GenrepError(`layers: fbank-stats has a single layer (1), got ${layer}`, 'BAD_INPUT', {
          field: 'layers',
          expected: '1',
        });
      }
    }
    if (options.layers.length === 0)
      throw new GenrepError('layers: at least one layer is required', 'BAD_INPUT', { field: 'layers' });
    const out = new Float32Array(clips.length * FBANK_STATS_DIM);
    await forEachBatch(clips.length, 8, options, (start, end) => {
      // i < end ≤ clips.length.
      for (let i = start; i < end; i++) out.set(fbankStatistics(clips[i]!), i * FBANK_STATS_DIM);
    });
    return options.layers.map(() => out.slice());
  }

  async dispose(): Promise<void> {}
}

function checkFbankStatsPooling(pooling: Pooling): void {
  checkPooling('fbank-stats', pooling, {
    subject: 'fbank-stats',
    why: 'whose statistics are over time',
    code: 'UNSUPPORTED',
  });
}

/** Per-bin mean and population standard deviation over frames, accumulated in float64. */
export function fbankStatistics(waveform: Float32Array): Float32Array {
  const fb = beatsFbank(waveform);
  const { frames, bins, data } = fb;
  // Every index is in bounds: b < bins = sum.length = sq.length, out has 2·bins, and t·bins + b < frames·bins =
  // data.length.
  const sum = new Float64Array(bins);
  for (let t = 0; t < frames; t++) for (let b = 0; b < bins; b++) sum[b]! += data[t * bins + b]!;
  const out = new Float32Array(2 * bins);
  const sq = new Float64Array(bins);
  for (let b = 0; b < bins; b++) out[b] = sum[b]! / frames;
  for (let t = 0; t < frames; t++) {
    for (let b = 0; b < bins; b++) {
      const dev = data[t * bins + b]! - sum[b]! / frames;
      sq[b]! += dev * dev;
    }
  }
  for (let b = 0; b < bins; b++) out[bins + b] = Math.sqrt(sq[b]! / frames);
  return out;
}

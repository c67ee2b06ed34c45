import { GenrepError } from '../errors';
import { BEATS_FBANK_OPTIONS, beatsFbank, inverseMelScale, melLayout } from '../fbank';

/**
 * A clip's pooled feature v split over time (docs/explain.md): `own` holds per time step t a vector a_t with
 * Σ_t a_t = v, and `bandOf` says which frequency band each feature dimension belongs to. For a bank row n the
 * distance d = ‖v − n‖ then splits as d = Σ_t ⟨a_t − n/T, u⟩ with u = (v − n)/d, and each time term further over
 * bands by summing its dimensions band by band.
 */
export interface FrameDecomposition {
  times: number;
  bands: number;
  dim: number;
  /** (times × dim) row-major: a_t. */
  own: Float64Array;
  /** (dim,) v = Σ_t a_t, summed here in float64 so that the grid sums to the distance it reports. */
  pooled: Float64Array;
  /** (dim,) band index < bands of each dimension. */
  bandOf: Int32Array;
  timeSeconds: number[];
  bandHz: [number, number][];
  decomposition: 'exact' | 'linearised';
}

/** Kaldi fbank frame shift and length of the BEATs front end, seconds. */
const FRAME_SHIFT_S = 0.01;
const FRAME_LENGTH_S = 0.025;
/** BEATs patch edge in fbank frames and mel bins. */
const PATCH = 16;

/** Each of the 128 Kaldi mel bins' [low, high] edges in Hz: the feet of its triangle. */
export function melBinEdgesHz(): [number, number][] {
  const bins = BEATS_FBANK_OPTIONS.num_mel_bins ?? 128;
  const rate = BEATS_FBANK_OPTIONS.sample_frequency ?? 16000;
  // The front end keeps torchaudio's defaults: low_freq 20 Hz, high_freq 0 = Nyquist.
  const { mel_low, mel_delta } = melLayout(bins, 20, rate / 2);
  return Array.from({ length: bins }, (_, b): [number, number] => [
    inverseMelScale(mel_low + b * mel_delta),
    inverseMelScale(mel_low + (b + 2) * mel_delta),
  ]);
}

/**
 * BEATs temporal pooling: tokens [T·F, C] time-major (token (t, f) at row t·F + f), pooled v[f·C + c] =
 * (1/T) Σ_t x[t, f, c]; a_t = x_t / T exactly. Bands are the F patch rows of 16 mel bins each.
 */
export function beatsDecomposition(tokens: {
  data: Float32Array;
  times: number;
  bands: number;
  channels: number;
}): FrameDecomposition {
  const { data, times: T, bands: F, channels: C } = tokens;
  if (data.length !== T * F * C) {
    throw new GenrepError(`BEATs tokens: ${data.length} values for ${T} × ${F} × ${C}`, 'INTERNAL');
  }
  const dim = F * C;
  const own = new Float64Array(T * dim);
  const pooled = new Float64Array(dim);
  // In bounds: t < T, k < dim = F·C, so t·dim + k < T·F·C = data.length = own.length; the token row t·F + f
  // starts at (t·F + f)·C = t·dim + f·C, so the time-major token layout is the pooled f·C + c layout per time.
  for (let t = 0; t < T; t++) {
    for (let k = 0; k < dim; k++) {
      const a = data[t * dim + k]! / T;
      own[t * dim + k] = a;
      pooled[k]! += a;
    }
  }
  const bandOf = new Int32Array(dim);
  for (let k = 0; k < dim; k++) bandOf[k] = Math.floor(k / C);
  const bins = melBinEdgesHz();
  const bandHz = Array.from({ length: F }, (_, f): [number, number] => {
    const lo = bins[f * PATCH];
    const hi = bins[Math.min(bins.length, (f + 1) * PATCH) - 1];
    if (!lo || !hi) throw new GenrepError(`BEATs band ${f} lies outside the ${bins.length} mel bins`, 'INTERNAL');
    return [lo[0], hi[1]];
  });
  // Patch t covers frames 16t .. 16t + 15; its centre is halfway between the first frame's start and the last's end.
  const timeSeconds = Array.from(
    { length: T },
    (_, t) => (PATCH * t * FRAME_SHIFT_S + ((PATCH * t + PATCH - 1) * FRAME_SHIFT_S + FRAME_LENGTH_S)) / 2,
  );
  return { times: T, bands: F, dim, own, pooled, bandOf, timeSeconds, bandHz, decomposition: 'exact' };
}

/**
 * fbank-stats ([means(128), stds(128)] over the frames of the BEATs-normalised fbank): the mean half splits exactly,
 * a_t[b] = x_tb / T. The std half is not linear in the frames; its terms are the first-order ones around the clip's
 * own std, a_t[128 + b] = (∂std_b/∂x_tb)·(x_tb − μ_b) = (x_tb − μ_b)² / (T·std_b). Because std_b is positively
 * homogeneous of degree 1 in the centred frames these sum to std_b itself (Euler), so the grid still sums to the
 * distance up to rounding; the split of the std half among frames is a gradient × input attribution, not a unique
 * one, hence 'linearised'. `meanOnly` keeps the first 128 dimensions (the exact part, for checks).
 */
export function fbankStatsDecomposition(waveform: Float32Array, meanOnly = false): FrameDecomposition {
  const { frames: T, bins, data } = beatsFbank(waveform);
  const dim = meanOnly ? bins : 2 * bins;
  const own = new Float64Array(T * dim);
  const mean = new Float64Array(bins);
  // In bounds: t < T, b < bins, so t·bins + b < T·bins = data.length and t·dim + b (+ bins) < T·dim = own.length.
  for (let t = 0; t < T; t++) for (let b = 0; b < bins; b++) mean[b]! += data[t * bins + b]! / T;
  const variance = new Float64Array(bins);
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < bins; b++) variance[b]! += (data[t * bins + b]! - mean[b]!) ** 2 / T;
  }
  const std = variance.map(Math.sqrt);
  const pooled = new Float64Array(dim);
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < bins; b++) {
      const x = data[t * bins + b]!;
      own[t * dim + b] = x / T;
      pooled[b]! += x / T;
      if (meanOnly) continue;
      // A bin with no spread has std 0 and every term 0: the sum is still the std.
      const s = std[b]! > 0 ? (x - mean[b]!) ** 2 / (T * std[b]!) : 0;
      own[t * dim + bins + b] = s;
      pooled[bins + b]! += s;
    }
  }
  const bandOf = new Int32Array(dim);
  for (let k = 0; k < dim; k++) bandOf[k] = k % bins;
  const timeSeconds = Array.from({ length: T }, (_, t) => t * FRAME_SHIFT_S + FRAME_LENGTH_S / 2);
  return {
    times: T,
    bands: bins,
    dim,
    own,
    pooled,
    bandOf,
    timeSeconds,
    bandHz: melBinEdgesHz(),
    decomposition: meanOnly ? 'exact' : 'linearised',
  };
}

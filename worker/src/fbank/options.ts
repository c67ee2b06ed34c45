import { GenrepError } from '../errors';

/**
 * Options of `torchaudio.compliance.kaldi.fbank`, named and defaulted exactly as torchaudio (and Kaldi's
 * compute-fbank-feats) name them, so a call can be checked against the reference by copying its arguments.
 * Times are in milliseconds, frequencies in Hz. `channel` is absent because the waveform here is already mono.
 */
export interface FbankOptions {
  /** Constant coefficient of the generalised Blackman window. Default 0.42. */
  blackman_coeff?: number;
  /** Dithering constant; 0 means no dither. Default 0.0. The noise comes from a seeded generator (`dither_seed`). */
  dither?: number;
  /** Not a torchaudio option: seed of the Gaussian generator behind `dither`, so dithered features are repeatable. Default 0. */
  dither_seed?: number;
  /** Floor on the log-energy column (absolute energy, 0 = no floor). Default 1.0. Only matters with use_energy. */
  energy_floor?: number;
  /** Frame length in ms. Default 25.0. */
  frame_length?: number;
  /** Frame shift in ms. Default 10.0. */
  frame_shift?: number;
  /** High cutoff of the mel bins; if <= 0, an offset from Nyquist. Default 0.0. */
  high_freq?: number;
  /** Put the energy column last instead of first. Default false. */
  htk_compat?: boolean;
  /** Low cutoff of the mel bins. Default 20.0. */
  low_freq?: number;
  /** Minimum duration (s) of a clip to process; shorter clips give zero frames. Default 0.0. */
  min_duration?: number;
  /** Number of triangular mel bins. Default 23. */
  num_mel_bins?: number;
  /** Pre-emphasis coefficient, in [0, 1]. Default 0.97. */
  preemphasis_coefficient?: number;
  /** Compute the energy column before pre-emphasis and windowing. Default true. */
  raw_energy?: boolean;
  /** Subtract each frame's mean. Default true. */
  remove_dc_offset?: boolean;
  /** Zero-pad each frame to the next power of two before the FFT. Default true. */
  round_to_power_of_two?: boolean;
  /** Sample rate of the waveform. Default 16000.0. */
  sample_frequency?: number;
  /** Only frames that fit completely in the clip (true), or frames every shift with the ends reflected (false). Default true. */
  snip_edges?: boolean;
  /** Subtract the mean of each output column over the clip. Default false. */
  subtract_mean?: boolean;
  /** Add a log-energy column. Default false. */
  use_energy?: boolean;
  /** Log of the mel energies (true) or the energies themselves. Default true. */
  use_log_fbank?: boolean;
  /** Power spectrum (true) or magnitude spectrum (false). Default true. */
  use_power?: boolean;
  /** VTLN high inflection point (negative = offset from high_freq). Default -500.0. Only used when vtln_warp != 1. */
  vtln_high?: number;
  /** VTLN low inflection point. Default 100.0. Only used when vtln_warp != 1. */
  vtln_low?: number;
  /** VTLN warp factor. Default 1.0; other values are not supported. */
  vtln_warp?: number;
  /** Window: 'povey' (Hann to the power 0.85), 'hanning', 'hamming', 'rectangular' or 'blackman'. Default 'povey'. */
  window_type?: WindowType;
}

export type WindowType = 'povey' | 'hanning' | 'hamming' | 'rectangular' | 'blackman';
export const WINDOW_TYPES: readonly WindowType[] = ['povey', 'hanning', 'hamming', 'rectangular', 'blackman'];

export type ResolvedFbankOptions = Required<FbankOptions>;

/** torchaudio's defaults (kaldi.fbank signature), plus our dither_seed. */
export const FBANK_DEFAULTS: Readonly<ResolvedFbankOptions> = Object.freeze({
  blackman_coeff: 0.42,
  dither: 0.0,
  dither_seed: 0,
  energy_floor: 1.0,
  frame_length: 25.0,
  frame_shift: 10.0,
  high_freq: 0.0,
  htk_compat: false,
  low_freq: 20.0,
  min_duration: 0.0,
  num_mel_bins: 23,
  preemphasis_coefficient: 0.97,
  raw_energy: true,
  remove_dc_offset: true,
  round_to_power_of_two: true,
  sample_frequency: 16000.0,
  snip_edges: true,
  subtract_mean: false,
  use_energy: false,
  use_log_fbank: true,
  use_power: true,
  vtln_high: -500.0,
  vtln_low: 100.0,
  vtln_warp: 1.0,
  window_type: 'povey',
});

const OPTION_NAMES = Object.keys(FBANK_DEFAULTS) as (keyof FbankOptions)[];

/** The option set plus the frame geometry torchaudio derives from it. */
export interface FbankGeometry {
  options: ResolvedFbankOptions;
  /** Samples per frame (frame_length in samples). */
  window_size: number;
  /** Samples between frame starts. */
  window_shift: number;
  /** FFT length: window_size, or the next power of two with round_to_power_of_two. */
  padded_window_size: number;
  /** high_freq after resolving a non-positive value against Nyquist. */
  high_freq_hz: number;
}

function badOption(
  field: string,
  problem: string,
  expected: string,
  code: 'BAD_INPUT' | 'UNSUPPORTED' = 'BAD_INPUT',
): GenrepError {
  return new GenrepError(`fbank option ${field}: ${problem}`, code, { field, expected });
}

function nextPowerOf2(x: number): number {
  // torchaudio's _next_power_of_2: the smallest power of two >= x (1 for 0).
  let p = 1;
  while (p < x) p *= 2;
  return p;
}

/**
 * Fills in defaults and checks every option as torchaudio's assertions do, but with errors that name the option.
 * Unknown names are refused so that a camelCase spelling (numMelBins) cannot silently fall back to a default.
 */
export function resolveFbankOptions(options: FbankOptions = {}): FbankGeometry {
  for (const key of Object.keys(options)) {
    if (!(OPTION_NAMES as string[]).includes(key)) {
      throw badOption(
        key,
        'unknown option',
        `one of ${OPTION_NAMES.join(', ')} (named as torchaudio.compliance.kaldi.fbank names them)`,
      );
    }
  }
  const o: ResolvedFbankOptions = { ...FBANK_DEFAULTS };
  for (const key of OPTION_NAMES) {
    const value = options[key];
    if (value === undefined) continue;
    const expectedType = typeof FBANK_DEFAULTS[key];
    if (typeof value !== expectedType) throw badOption(key, `got ${JSON.stringify(value)}`, `a ${expectedType}`);
    if (typeof value === 'number' && !Number.isFinite(value)) throw badOption(key, `got ${value}`, 'a finite number');
    (o as unknown as Record<string, unknown>)[key] = value;
  }

  if (!WINDOW_TYPES.includes(o.window_type)) {
    throw badOption('window_type', `unknown window '${String(o.window_type)}'`, WINDOW_TYPES.join(' | '));
  }
  if (o.vtln_warp !== 1.0) {
    throw badOption(
      'vtln_warp',
      `VTLN warping (factor ${o.vtln_warp}) is not implemented`,
      '1.0 (no warping)',
      'UNSUPPORTED',
    );
  }
  if (!(o.sample_frequency > 0)) throw badOption('sample_frequency', `got ${o.sample_frequency}`, 'greater than zero');
  if (!(o.preemphasis_coefficient >= 0 && o.preemphasis_coefficient <= 1)) {
    throw badOption('preemphasis_coefficient', `got ${o.preemphasis_coefficient}`, 'between 0 and 1');
  }
  if (!Number.isInteger(o.num_mel_bins) || o.num_mel_bins <= 3) {
    throw badOption('num_mel_bins', `got ${o.num_mel_bins}`, 'an integer greater than 3');
  }
  if (o.dither < 0) throw badOption('dither', `got ${o.dither}`, 'zero or positive');
  if (o.energy_floor < 0) throw badOption('energy_floor', `got ${o.energy_floor}`, 'zero or positive');
  if (!Number.isInteger(o.dither_seed)) throw badOption('dither_seed', `got ${o.dither_seed}`, 'an integer');

  // Same expression order as torchaudio (int(sample_frequency * frame_shift * 0.001)), so rounding agrees.
  const window_shift = Math.trunc(o.sample_frequency * o.frame_shift * 0.001);
  const window_size = Math.trunc(o.sample_frequency * o.frame_length * 0.001);
  if (window_size < 2)
    throw badOption('frame_length', `${o.frame_length} ms is ${window_size} samples`, 'at least 2 samples');
  if (window_shift <= 0)
    throw badOption('frame_shift', `${o.frame_shift} ms is ${window_shift} samples`, 'at least 1 sample');
  const padded_window_size = o.round_to_power_of_two ? nextPowerOf2(window_size) : window_size;
  if (padded_window_size % 2 !== 0) {
    throw badOption(
      'frame_length',
      `the FFT length ${padded_window_size} is odd`,
      'an even window size, or round_to_power_of_two',
    );
  }

  const nyquist = 0.5 * o.sample_frequency;
  const high_freq_hz = o.high_freq <= 0 ? o.high_freq + nyquist : o.high_freq;
  if (!(o.low_freq >= 0 && o.low_freq < nyquist))
    throw badOption('low_freq', `got ${o.low_freq}`, `in [0, ${nyquist}) (Nyquist)`);
  if (!(high_freq_hz > 0 && high_freq_hz <= nyquist && o.low_freq < high_freq_hz)) {
    throw badOption(
      'high_freq',
      `resolves to ${high_freq_hz} Hz`,
      `in (low_freq=${o.low_freq}, ${nyquist}] (negative = offset from Nyquist)`,
    );
  }
  return { options: o, window_size, window_shift, padded_window_size, high_freq_hz };
}

/** A stable key for one option set, after defaults, so equal option sets share one precomputed FbankComputer. */
export function optionsKey(options: ResolvedFbankOptions): string {
  return OPTION_NAMES.map((k) => `${k}=${String(options[k])}`).join(';');
}

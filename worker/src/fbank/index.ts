/**
 * Kaldi filterbank features equal to `torchaudio.compliance.kaldi.fbank`, and BEATs' preprocessing on top.
 * Options keep torchaudio's snake_case names so any call can be cross-checked against the reference.
 */
import { type Fbank, FbankComputer } from './computer';
import { type FbankOptions, optionsKey, resolveFbankOptions } from './options';

export { type Fbank, FbankComputer, FBANK_EPSILON, type FbankRunOptions, reflectEdges } from './computer';
export { ComplexFft, RealFftPower } from './fft';
export { MelBanks, melLayout, melScale, inverseMelScale, type MelLayout } from './melBanks';
export {
  FBANK_DEFAULTS,
  WINDOW_TYPES,
  resolveFbankOptions,
  type FbankGeometry,
  type FbankOptions,
  type ResolvedFbankOptions,
  type WindowType,
} from './options';
export { featureWindow } from './windows';
export {
  BEATS_FBANK_MEAN,
  BEATS_FBANK_OPTIONS,
  BEATS_FBANK_STD,
  BEATS_SAMPLES,
  BEATS_WAVEFORM_SCALE,
  beatsFbank,
} from './beats';
export { averageFrames, spectrogramImage, type SpectrogramImage } from './spectrogramImage';

/** A few recent option sets, so repeated fbank() calls reuse their window, twiddles and mel matrix. */
const CACHE_SIZE = 8;
const computers = new Map<string, FbankComputer>();

export function fbankComputer(options: FbankOptions = {}): FbankComputer {
  const key = optionsKey(resolveFbankOptions(options).options);
  let computer = computers.get(key);
  if (computer) {
    computers.delete(key); // re-insert: Map order is the recency order
  } else {
    computer = new FbankComputer(options);
    if (computers.size >= CACHE_SIZE) computers.delete(computers.keys().next().value as string);
  }
  computers.set(key, computer);
  return computer;
}

/**
 * `torchaudio.compliance.kaldi.fbank(waveform, **options)` for a mono waveform in the scale given (BEATs callers
 * multiply by 2^15 first; beatsFbank does that). Returns time-major [frames, bins] float32, written into `into`
 * when given (see FbankComputer.compute).
 */
export function fbank(waveform: Float32Array, options: FbankOptions = {}, into?: Float32Array): Fbank {
  return fbankComputer(options).compute(waveform, into);
}

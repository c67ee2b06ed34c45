import { type Fbank, FbankComputer } from './computer';
import type { FbankOptions } from './options';

/** BEATs' fbank normalisation constants (BEATs.preprocess: fbank_mean, fbank_std). */
export const BEATS_FBANK_MEAN = 15.41663;
export const BEATS_FBANK_STD = 6.55582;
/** Clip length GenRep feeds BEATs: 10 s at 16 kHz. */
export const BEATS_SAMPLES = 160000;
/** BEATs scales [-1, 1) audio back to the int16 range before Kaldi's fbank. */
export const BEATS_WAVEFORM_SCALE = 32768;

/** BEATs.preprocess's kaldi.fbank arguments; everything else at torchaudio's defaults. */
export const BEATS_FBANK_OPTIONS: Readonly<FbankOptions> = Object.freeze({
  num_mel_bins: 128,
  sample_frequency: 16000,
  frame_length: 25,
  frame_shift: 10,
});

let computer: FbankComputer | undefined;

/**
 * GenRep's clip → BEATs input features: keep the first 160000 samples or zero-pad at the end, scale by 2^15, Kaldi
 * fbank with 128 mel bins, then (fbank − 15.41663) / (2 · 6.55582) — the factor 2 is BEATs' own. Result [998, 128].
 * `waveform` is mono 16 kHz in [-1, 1), any length. `into` (optional, >= 998 × 128 values) receives the result
 * instead of a new array.
 */
export function beatsFbank(waveform: Float32Array, into?: Float32Array): Fbank {
  // × 2^15 and the normalisation are fused into the computation (× 2^15 is exact in float32 and float64, so the
  // input is the one torchaudio sees); (fbank − mean) / (2·std) is one multiply-add.
  computer ??= new FbankComputer(BEATS_FBANK_OPTIONS, {
    input_scale: BEATS_WAVEFORM_SCALE,
    output_scale: 1 / (2 * BEATS_FBANK_STD),
    output_offset: -BEATS_FBANK_MEAN / (2 * BEATS_FBANK_STD),
  });
  let clip = waveform.subarray(0, BEATS_SAMPLES);
  if (clip.length < BEATS_SAMPLES) {
    const padded = new Float32Array(BEATS_SAMPLES);
    padded.set(clip);
    clip = padded;
  }
  return computer.compute(clip, into);
}

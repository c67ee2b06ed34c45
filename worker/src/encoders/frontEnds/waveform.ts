import { resample } from '../../audio/resample';
import type { WaveformScale } from '../../protocol/encoderDescriptor';
import { badField, oneOf, optionalBoolean, positiveInteger } from './fields';

/** Our clips are 16 kHz; every front-end starts from there. */
export const CLIP_RATE = 16000;

/** What every front-end kind shares: the model's rate, the scale and (waveform front-ends) per-clip normalisation. */
export interface WaveformPrep {
  sampleRate: number;
  scale: WaveformScale;
  normalize: boolean;
}

export function readWaveformPrep(fe: Record<string, unknown>, allowNormalize: boolean): WaveformPrep {
  const sampleRate = positiveInteger(fe['sampleRate'], '/frontEnd/sampleRate');
  const scale = fe['scale'] === undefined ? 'unit' : oneOf(fe['scale'], '/frontEnd/scale', ['unit', 'int16'] as const);
  const normalize = optionalBoolean(fe['normalize'], '/frontEnd/normalize');
  if (normalize && !allowNormalize) throw badField('/frontEnd/normalize', 'nothing (waveform front-ends only)', true);
  return { sampleRate, scale, normalize };
}

/**
 * 16 kHz clip → the model's waveform: resampled, × 32768 for 'int16', then Wav2Vec2FeatureExtractor's
 * zero_mean_unit_var_norm, (x − mean) / sqrt(var + 1e-7) with the population variance, when asked.
 */
export function toModelRate(clip16k: Float32Array, prep: WaveformPrep): Float32Array {
  const out = resample(clip16k, CLIP_RATE, prep.sampleRate);
  if (prep.scale === 'int16') {
    // In bounds: i < out.length.
    for (let i = 0; i < out.length; i++) out[i] = out[i]! * 32768;
  }
  if (prep.normalize && out.length > 0) {
    let sum = 0;
    // In bounds: i < out.length (both loops below too).
    for (let i = 0; i < out.length; i++) sum += out[i]!;
    const mean = sum / out.length;
    let squares = 0;
    for (let i = 0; i < out.length; i++) squares += (out[i]! - mean) ** 2;
    const inv = 1 / Math.sqrt(squares / out.length + 1e-7);
    for (let i = 0; i < out.length; i++) out[i] = (out[i]! - mean) * inv;
  }
  return out;
}

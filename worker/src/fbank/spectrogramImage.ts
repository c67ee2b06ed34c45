import { GenrepError } from '../errors';
import { BEATS_FBANK_OPTIONS, BEATS_WAVEFORM_SCALE } from './beats';
import { type Fbank, FbankComputer } from './computer';

/** BEATs' frame length and shift at 16 kHz (BEATS_FBANK_OPTIONS: 25 ms, 10 ms). */
const FRAME_SAMPLES = 400;
const FRAME_SHIFT_MS = 10;

/** A clip's spectrogram as the results panel draws it. */
export interface SpectrogramImage {
  /** (frames, bins) row-major float32: Kaldi log-mel, each row the mean of `step` consecutive fbank frames. */
  data: Float32Array;
  frames: number;
  bins: number;
  /** fbank frames averaged into each row (the last row may average fewer). */
  step: number;
  /** Time between rows, after averaging. */
  frameShiftMs: number;
  /** Smallest and largest value of `data`, for the colour scale. */
  min: number;
  max: number;
}

let computer: FbankComputer | undefined;

/**
 * The clip as the embedder sees it — 16 kHz mono samples in [-1, 1), Kaldi log-mel with BEATs' 128 bins on the
 * input × 2^15 — but the whole clip (not cropped to 10 s) and unnormalised, its frames averaged down to at most
 * `maxFrames` rows so a long clip costs a bounded message. `source` names the clip in errors.
 */
export function spectrogramImage(samples: Float32Array, maxFrames: number, source: string): SpectrogramImage {
  computer ??= new FbankComputer(BEATS_FBANK_OPTIONS, { input_scale: BEATS_WAVEFORM_SCALE });
  if (samples.length < FRAME_SAMPLES) {
    throw new GenrepError(
      `${source}: too short for a spectrogram (${samples.length} samples at 16 kHz; one frame needs ${FRAME_SAMPLES})`,
      'BAD_INPUT',
      { file: source },
    );
  }
  const image = averageFrames(computer.compute(samples), maxFrames);
  return { ...image, frameShiftMs: FRAME_SHIFT_MS * image.step };
}

/**
 * The rows of `fb` averaged in runs of ceil(frames / maxFrames) (the last run may be shorter), so at most
 * `maxFrames` rows remain; with the smallest and largest averaged value.
 */
export function averageFrames(fb: Fbank, maxFrames: number): Omit<SpectrogramImage, 'frameShiftMs'> {
  const step = Math.max(1, Math.ceil(fb.frames / maxFrames));
  const frames = Math.ceil(fb.frames / step);
  const data = new Float32Array(frames * fb.bins);
  let min = Infinity;
  let max = -Infinity;
  // In bounds: t < last ≤ fb.frames, so t·bins + b < frames·bins of fb.data.
  for (let f = 0; f < frames; f++) {
    const first = f * step;
    const last = Math.min(fb.frames, first + step);
    for (let b = 0; b < fb.bins; b++) {
      let sum = 0;
      for (let t = first; t < last; t++) sum += fb.data[t * fb.bins + b]!;
      const v = sum / (last - first);
      data[f * fb.bins + b] = v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  return { data, frames, bins: fb.bins, step, min, max };
}

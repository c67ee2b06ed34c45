/**
 * The descriptor's clip length and windows (protocol/encoderDescriptor.ts LengthSpec, WindowSpec) over a row-major
 * [frames × bins] matrix along the front-end's time axis (a waveform: samples × 1).
 */

import type { FrontEndOutput } from './frontEnd';
import type { LengthSpec, WindowSpec } from '../protocol/encoderDescriptor';

/**
 * Crops to at most (the first frames: deterministic, where CLAP's extractor picks a random offset), pads to at least,
 * or both, `length.frames` frames. Padding holds padValue; with fill 'repeat' the clip is first repeated whole as
 * often as it fits (ClapFeatureExtractor's "repeatpad": np.tile(x, n_repeat), then pad).
 */
export function applyLength(input: FrontEndOutput, length: LengthSpec): FrontEndOutput {
  const { frames, bins } = input;
  const target = length.frames;
  if (frames > target && length.mode !== 'pad') {
    return { data: input.data.slice(0, target * bins), frames: target, bins };
  }
  if (frames < target && length.mode !== 'crop') {
    const data = new Float32Array(target * bins);
    // An empty clip has nothing to repeat: it is all padding.
    const copies = length.fill === 'repeat' && frames > 0 ? Math.floor(target / frames) : 1;
    for (let c = 0; c < copies; c++) data.set(input.data, c * frames * bins);
    const padValue = length.padValue ?? 0;
    if (padValue !== 0) data.fill(padValue, copies * frames * bins);
    return { data, frames: target, bins };
  }
  return input;
}

/** Where each window starts: full windows every `hop`; a clip shorter than one window is one padded window. */
export function windowStarts(frames: number, window: WindowSpec): number[] {
  const { frames: size, hop } = window;
  const starts: number[] = [];
  for (let start = 0; start < frames || start === 0; start += hop) {
    if (start + size >= frames) {
      // The last window: whole, or partial and kept ('pad', and always when it is the clip's only window).
      if (start + size === frames || start === 0 || window.last !== 'drop') starts.push(start);
      break;
    }
    starts.push(start);
  }
  return starts;
}

/** Cuts [frames × bins] into windows of `window.frames` frames, zero-padding a partial one. */
export function cutWindows(input: FrontEndOutput, window: WindowSpec): FrontEndOutput[] {
  const { bins } = input;
  return windowStarts(input.frames, window).map((start) => {
    const data = new Float32Array(window.frames * bins);
    data.set(input.data.subarray(start * bins, Math.min(input.frames, start + window.frames) * bins));
    return { data, frames: window.frames, bins };
  });
}

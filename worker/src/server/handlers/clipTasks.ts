import { DEFAULT_MAX_DURATION_SEC, encodeWavPcm16, readWav, readWavInfo } from '../../audio';
import { GenrepError } from '../../errors';
import { BEATS_FBANK_OPTIONS, BEATS_WAVEFORM_SCALE, FbankComputer } from '../../fbank';
import type {
  ClipAudioParams,
  ClipAudioResult,
  SpectrogramParams,
  SpectrogramResult,
} from '../../protocol/workerProtocol';

/**
 * The computations behind genrep/spectrogram and genrep/clipAudio. They run in the clip thread (clipThread.ts), off
 * the worker's event loop: a 10-minute clip at 48 kHz takes seconds to resample, and the fbank of a whole clip
 * cannot be cut into slices without changing its bits (frame means come from running sums over the clip).
 */

const DEFAULT_MAX_FRAMES = 600;
const DEFAULT_MAX_SECONDS = 30;
/** clipAudio's WAV stays under 64 MiB (89 MB of base64): 30 s at 768 kHz fits, 10 minutes at 768 kHz is cut. */
export const MAX_CLIP_AUDIO_SAMPLES = 2 ** 25;
/** BEATs' frame shift (BEATS_FBANK_OPTIONS.frame_shift). */
const FRAME_SHIFT_MS = 10;

let computer: FbankComputer | undefined;

/**
 * genrep/spectrogram: the clip as the embedder sees it — channel 0 at 16 kHz, Kaldi log-mel with BEATs' 128 bins —
 * but the whole clip (not cropped to 10 s) and unnormalised, up to 10 minutes (DEFAULT_MAX_DURATION_SEC; longer
 * clips are refused before they are decoded). Frames are averaged down to maxFrames, so a long clip costs a
 * bounded message.
 */
export async function spectrogram(params: SpectrogramParams): Promise<SpectrogramResult> {
  const maxFrames = params.maxFrames ?? DEFAULT_MAX_FRAMES;
  if (!Number.isInteger(maxFrames) || maxFrames < 1)
    throw new GenrepError(`maxFrames must be a positive integer, got ${maxFrames}`, 'BAD_INPUT', {
      field: 'maxFrames',
    });
  const audio = await readWav(params.file, { channel: 0, targetSampleRate: 16000 });
  computer ??= new FbankComputer(BEATS_FBANK_OPTIONS, { input_scale: BEATS_WAVEFORM_SCALE });
  if (audio.samples.length < 400)
    throw new GenrepError(
      `${params.file}: too short for a spectrogram (${audio.samples.length} samples at 16 kHz; one frame needs 400)`,
      'BAD_INPUT',
      { file: params.file },
    );
  const fb = computer.compute(audio.samples);
  const step = Math.max(1, Math.ceil(fb.frames / maxFrames));
  const frames = Math.ceil(fb.frames / step);
  const data = new Float32Array(frames * fb.bins);
  let min = Infinity;
  let max = -Infinity;
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
  return {
    file: params.file,
    frames,
    bins: fb.bins,
    frameShiftMs: FRAME_SHIFT_MS * step,
    durationSec: audio.samples.length / audio.sampleRate,
    data: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64'),
    min,
    max,
  };
}

/**
 * genrep/clipAudio: the clip re-encoded as 16-bit PCM mono at its own rate, so the panel can play any WAV the
 * worker reads (float, 24-bit, extensible, multi-channel) and the webview needs no access to the dataset folder.
 */
export async function clipAudio(params: ClipAudioParams): Promise<ClipAudioResult> {
  const maxSeconds = params.maxSeconds ?? DEFAULT_MAX_SECONDS;
  if (!(maxSeconds > 0 && maxSeconds <= DEFAULT_MAX_DURATION_SEC)) {
    const problem = `maxSeconds must be above 0 and at most ${DEFAULT_MAX_DURATION_SEC}, got ${maxSeconds}`;
    throw new GenrepError(problem, 'BAD_INPUT', {
      field: 'maxSeconds',
      expected: `0 < maxSeconds ≤ ${DEFAULT_MAX_DURATION_SEC}`,
    });
  }
  const info = await readWavInfo(params.file);
  const limit = Math.min(Math.floor(maxSeconds * info.sampleRate), MAX_CLIP_AUDIO_SAMPLES);
  // Only the frames played are read: the first 30 s of an hour-long file, not the hour.
  const audio = await readWav(params.file, { channel: 0, targetSampleRate: null, maxSamples: Math.max(1, limit) });
  const truncated = info.frames > limit;
  const samples = audio.samples.subarray(0, limit);
  return {
    file: params.file,
    wav: Buffer.from(encodeWavPcm16(samples, audio.sampleRate)).toString('base64'),
    sampleRate: audio.sampleRate,
    durationSec: samples.length / audio.sampleRate,
    truncated,
  };
}

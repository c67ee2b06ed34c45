import { DEFAULT_MAX_DURATION_SEC, playbackWav, readWav } from '../../audio';
import { GenrepError } from '../../errors';
import { spectrogramImage } from '../../fbank';
import type {
  ClipAudioParams,
  ClipAudioResult,
  SpectrogramParams,
  SpectrogramResult,
} from '../../protocol/workerProtocol';

/**
 * The requests behind genrep/spectrogram and genrep/clipAudio: their parameters checked, the signal processing
 * (fbank/spectrogramImage.ts, audio/playbackWav.ts) called, the result encoded for the wire. They run in the clip
 * thread (clipThread.ts), off the worker's event loop: a 10-minute clip at 48 kHz takes seconds to resample, and
 * the fbank of a whole clip cannot be cut into slices without changing its bits (frame means come from running
 * sums over the clip).
 */

const DEFAULT_MAX_FRAMES = 600;
const DEFAULT_MAX_SECONDS = 30;

/**
 * genrep/spectrogram: channel 0 at 16 kHz as spectrogramImage draws it, up to 10 minutes (DEFAULT_MAX_DURATION_SEC;
 * longer clips are refused before they are decoded), averaged down to maxFrames rows.
 */
export async function spectrogram(params: SpectrogramParams): Promise<SpectrogramResult> {
  const maxFrames = params.maxFrames ?? DEFAULT_MAX_FRAMES;
  if (!Number.isInteger(maxFrames) || maxFrames < 1)
    throw new GenrepError(`maxFrames must be a positive integer, got ${maxFrames}`, 'BAD_INPUT', {
      field: 'maxFrames',
    });
  const audio = await readWav(params.file, { channel: 0, targetSampleRate: 16000 });
  const image = spectrogramImage(audio.samples, maxFrames, params.file);
  return {
    file: params.file,
    frames: image.frames,
    bins: image.bins,
    frameShiftMs: image.frameShiftMs,
    durationSec: audio.samples.length / audio.sampleRate,
    data: Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength).toString('base64'),
    min: image.min,
    max: image.max,
  };
}

/** genrep/clipAudio: the clip as a 16-bit PCM mono WAV the panel can play (see playbackWav). */
export async function clipAudio(params: ClipAudioParams): Promise<ClipAudioResult> {
  const maxSeconds = params.maxSeconds ?? DEFAULT_MAX_SECONDS;
  if (!(maxSeconds > 0 && maxSeconds <= DEFAULT_MAX_DURATION_SEC)) {
    const problem = `maxSeconds must be above 0 and at most ${DEFAULT_MAX_DURATION_SEC}, got ${maxSeconds}`;
    throw new GenrepError(problem, 'BAD_INPUT', {
      field: 'maxSeconds',
      expected: `0 < maxSeconds ≤ ${DEFAULT_MAX_DURATION_SEC}`,
    });
  }
  const playback = await playbackWav(params.file, maxSeconds);
  return {
    file: params.file,
    wav: Buffer.from(playback.wav).toString('base64'),
    sampleRate: playback.sampleRate,
    durationSec: playback.durationSec,
    truncated: playback.truncated,
  };
}

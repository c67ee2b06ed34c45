import { readWav, readWavInfo } from './wavReader';
import { encodeWavPcm16 } from './wavWriter';

/** A playback WAV stays under 64 MiB (89 MB of base64): 30 s at 768 kHz fits, 10 minutes at 768 kHz is cut. */
export const MAX_PLAYBACK_SAMPLES = 2 ** 25;

export interface PlaybackWav {
  /** 16-bit PCM mono WAV bytes (canonical 44-byte header). */
  wav: Uint8Array;
  sampleRate: number;
  durationSec: number;
  /** The clip is longer than what `wav` holds. */
  truncated: boolean;
}

/**
 * The first `maxSeconds` (at most MAX_PLAYBACK_SAMPLES samples) of a clip's channel 0, re-encoded as 16-bit PCM
 * mono at its own rate, so any WAV the worker reads (float, 24-bit, extensible, multi-channel) plays in a browser.
 * Only the frames kept are read: the first 30 s of an hour-long file, not the hour.
 */
export async function playbackWav(file: string, maxSeconds: number): Promise<PlaybackWav> {
  const info = await readWavInfo(file);
  const limit = Math.min(Math.floor(maxSeconds * info.sampleRate), MAX_PLAYBACK_SAMPLES);
  const audio = await readWav(file, { channel: 0, targetSampleRate: null, maxSamples: Math.max(1, limit) });
  const samples = audio.samples.subarray(0, limit);
  return {
    wav: encodeWavPcm16(samples, audio.sampleRate),
    sampleRate: audio.sampleRate,
    durationSec: samples.length / audio.sampleRate,
    truncated: info.frames > limit,
  };
}

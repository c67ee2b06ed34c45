/** What `genrep info` prints and what every reader reports about a WAV file, taken from its header alone. */
export interface WavInfo {
  /** The file as the caller named it. */
  file: string;
  /** The fmt chunk's format tag as stored: 1 PCM, 3 IEEE float, 0xFFFE WAVE_FORMAT_EXTENSIBLE. */
  formatTag: number;
  /** The sample encoding; for extensible files, the one named by the sub-format GUID. */
  encoding: 'pcm' | 'float';
  extensible: boolean;
  /** Container bits per sample (what is decoded; a 24-valid-bit-in-32 extensible file reports 32). */
  bitsPerSample: number;
  channels: number;
  /** The file's own rate in Hz, before any resampling. */
  sampleRate: number;
  /** Whole frames in the data chunk (one sample per channel each). */
  frames: number;
  durationSec: number;
}

/** A channel index (0-based) or the mean over all channels. DCASE's single-channel releases kept channel 0. */
export type ChannelSelection = number | 'mean';

export interface ReadWavOptions {
  /** Default 0. */
  channel?: ChannelSelection;
  /** Default 16000 (what BEATs expects); null or 0 keeps the file's own rate. Otherwise 1 kHz … 768 kHz. */
  targetSampleRate?: number | null;
  /**
   * Keep only the first `maxSamples` samples (at the output rate), for a consumer that crops (BEATs: 160000). Only
   * the file's frames those samples depend on are read and resampled; the samples equal the first `maxSamples` of
   * reading the whole clip, bit for bit.
   */
  maxSamples?: number;
  /**
   * Refuse a read of more than this many seconds of audio (the clip, or its first `maxSamples`), so a header that
   * claims hours cannot make a command decode hours. Default DEFAULT_MAX_DURATION_SEC (10 minutes); Infinity lifts it.
   */
  maxDurationSec?: number;
  /** How the caller's user raises the limit (e.g. "--max-duration"), named in the error. */
  maxDurationOption?: string;
}

export interface Audio {
  /** Mono samples at `sampleRate`, scaled like torchaudio.load (PCM in [-1, 1); float as stored). */
  samples: Float32Array;
  sampleRate: number;
  /** The file as stored (its native rate and channel count). */
  info: WavInfo;
}

/** Everything the decoder needs beyond WavInfo: where the samples are and how a frame is laid out. */
export interface WavHeader extends WavInfo {
  /** Bytes per frame, validated to equal channels × bitsPerSample / 8. */
  blockAlign: number;
  /** Absolute offset of the first sample byte. */
  dataOffset: number;
  /** Bytes of whole frames in the data chunk (a trailing partial frame is left out). */
  dataBytes: number;
}

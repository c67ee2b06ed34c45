/** Audio input: WAV decoding with torchaudio.load's scaling, channel selection, and resampling to 16 kHz. */
export type { Audio, ChannelSelection, ReadWavOptions, WavInfo } from './wavTypes';
export { decodeWav, DEFAULT_MAX_DURATION_SEC, readWav, readWavInfo } from './wavReader';
export { MAX_HEADER_CHUNKS, MAX_SAMPLE_RATE, MIN_SAMPLE_RATE } from './riffHeader';
export { encodeWavPcm16 } from './wavWriter';
export { MAX_PLAYBACK_SAMPLES, playbackWav, type PlaybackWav } from './playbackWav';
export {
  BlockResampler,
  resample,
  resampledLength,
  RESAMPLER_DESIGN_ATTENUATION_DB,
  RESAMPLER_PASSBAND_FRACTION,
} from './resample';

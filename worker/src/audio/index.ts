/** Audio input: WAV decoding with torchaudio.load's scaling, channel selection, and resampling to 16 kHz. */
export type { Audio, ChannelSelection, ReadWavOptions, WavInfo } from './wavTypes';
export { decodeWav, readWav, readWavInfo } from './wavReader';
export { encodeWavPcm16 } from './wavWriter';
export { resample, RESAMPLER_DESIGN_ATTENUATION_DB, RESAMPLER_PASSBAND_FRACTION } from './resample';

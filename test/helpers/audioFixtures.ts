import * as path from 'node:path';
import type { WavInfo } from '../../worker/src/audio';

/** The real clips in test/fixtures/audio (its README says where each comes from). */
export const AUDIO_FIXTURES = path.join(__dirname, '..', 'fixtures', 'audio');
/** MIMII fan clip #969 as recorded: 8 channels, WAVE_FORMAT_EXTENSIBLE. */
export const MIMII_8CH = path.join(AUDIO_FIXTURES, 'mimii_fab969_8ch.wav');

/** The header of a fixture clip: every one is 10 s of 16-bit PCM at 16 kHz; they differ in channels and layout. */
export function fixtureClipInfo(file: string, channels: number, extensible: boolean): WavInfo {
  const formatTag = extensible ? 0xfffe : 1;
  return {
    file,
    formatTag,
    encoding: 'pcm',
    extensible,
    bitsPerSample: 16,
    channels,
    sampleRate: 16000,
    frames: 160000,
    durationSec: 10,
  };
}

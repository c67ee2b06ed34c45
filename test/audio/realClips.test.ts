import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeWav, readWav, readWavInfo } from '../../worker/src/audio';
import { AUDIO_FIXTURES, fixtureClipInfo, MIMII_8CH } from '../helpers/audioFixtures';

/**
 * Real clips (test/fixtures/audio/README.md). Expectations come from the raw bytes, located here by a plain search
 * for the "data" chunk id, not by the reader under test.
 */
const DCASE = path.join(AUDIO_FIXTURES, 'dcase2023_fan_test_section_00_source_test_anomaly_0022_m-n_W.wav');
const MIMII_CH0 = path.join(AUDIO_FIXTURES, 'mimii_fab969_mono_ch0.wav');

/** The int16 samples after the data chunk header, de-interleaved into channels. */
function rawInt16Channels(file: string, channels: number): Int16Array[] {
  const bytes = readFileSync(file);
  const at = bytes.indexOf('data');
  expect(at).toBeGreaterThan(11);
  const size = bytes.readUInt32LE(at + 4);
  const start = at + 8;
  expect(start + size).toBe(bytes.length);
  const frames = size / (2 * channels);
  const out = Array.from({ length: channels }, () => new Int16Array(frames));
  for (let f = 0; f < frames; f++) {
    for (let c = 0; c < channels; c++) out[c]![f] = bytes.readInt16LE(start + 2 * (f * channels + c));
  }
  return out;
}

/** int16 samples as the reader scales them: v / 32768. */
function int16ToFloat(raw: Int16Array): Float32Array {
  return Float32Array.from(raw, (v) => v / 32768);
}

function sameFloats(a: Float32Array, b: Float32Array): boolean {
  return (
    a.length === b.length &&
    Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))
  );
}

describe('a DCASE 2023 clip (mono, 16-bit, 16 kHz)', () => {
  it('decodes to int16/32768 of its data, bit for bit', async () => {
    const [raw] = rawInt16Channels(DCASE, 1);
    const expected = int16ToFloat(raw!);
    const audio = await readWav(DCASE);
    expect(audio.sampleRate).toBe(16000);
    expect(audio.samples.length).toBe(160000);
    expect(sameFloats(audio.samples, expected)).toBe(true);
    expect(sameFloats(decodeWav(readFileSync(DCASE), DCASE).samples, expected)).toBe(true);
  });

  it('has the expected header', async () => {
    expect(await readWavInfo(DCASE)).toEqual(fixtureClipInfo(DCASE, 1, false));
  });
});

describe('a MIMII original (8-channel WAVE_FORMAT_EXTENSIBLE)', () => {
  const raw = rawInt16Channels(MIMII_8CH, 8);

  it('has the expected header', async () => {
    expect(await readWavInfo(MIMII_8CH)).toEqual(fixtureClipInfo(MIMII_8CH, 8, true));
  });

  it("channel 0 (the default) equals the data set's own mono channel-0 copy", async () => {
    const ch0 = await readWav(MIMII_8CH);
    const mono = await readWav(MIMII_CH0);
    expect(ch0.samples.length).toBe(160000);
    expect(sameFloats(ch0.samples, mono.samples)).toBe(true);
    expect(sameFloats(ch0.samples, int16ToFloat(raw[0]!))).toBe(true);
  });

  it("channel 5 equals that channel's raw samples", async () => {
    const ch5 = await readWav(MIMII_8CH, { channel: 5 });
    expect(sameFloats(ch5.samples, int16ToFloat(raw[5]!))).toBe(true);
    expect(sameFloats(ch5.samples, int16ToFloat(raw[0]!))).toBe(false);
  });

  it('"mean" equals the mean of the eight channels', async () => {
    const mean = await readWav(MIMII_8CH, { channel: 'mean' });
    const expected = new Float32Array(160000);
    for (let f = 0; f < expected.length; f++) {
      let sum = 0;
      for (let c = 0; c < 8; c++) sum += raw[c]![f]!;
      expected[f] = sum / 8 / 32768;
    }
    expect(sameFloats(mean.samples, expected)).toBe(true);
  });
});

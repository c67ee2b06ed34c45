import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BlockResampler, decodeWav, readWav, readWavInfo, resample, type ReadWavOptions } from '../../worker/src/audio';
import { GenrepError } from '../../worker/src/errors';
import { BEATS_SAMPLES } from '../../worker/src/fbank';
import { syntheticWav, type SyntheticWavSpec } from './syntheticWav';
import { chunk, fmtChunk, pcmBytes, riff } from './wavBytes';

const dir = mkdtempSync(path.join(os.tmpdir(), 'genrep-bounds-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function same(a: Float32Array, b: Float32Array): boolean {
  const bytes = (x: Float32Array): Buffer => Buffer.from(x.buffer, x.byteOffset, x.byteLength);
  return a.length === b.length && Buffer.compare(bytes(a), bytes(b)) === 0;
}

/** The old path: every sample of the clip at its own rate, resampled whole, then cropped. */
function wholeThenCrop(bytes: Uint8Array, options: ReadWavOptions, maxSamples: number): Float32Array {
  const native = decodeWav(bytes, 'x.wav', { ...options, targetSampleRate: null, maxDurationSec: Infinity });
  return resample(native.samples, native.info.sampleRate, 16000).subarray(0, maxSamples);
}

describe('crop before resample', () => {
  // Clips longer than BEATs' 10 s, where the crop matters; one mean-of-channels and one 24-bit case among them.
  const long: Array<[string, SyntheticWavSpec, ReadWavOptions]> = [
    ['44.1 kHz', { sampleRate: 44100, seconds: 12 }, {}],
    ['48 kHz stereo mean', { sampleRate: 48000, seconds: 10.5, channels: 2, bits: 24 }, { channel: 'mean' }],
    ['8 kHz', { sampleRate: 8000, seconds: 30, bits: 8 }, {}],
    ['22.05 kHz', { sampleRate: 22050, seconds: 11 }, {}],
    ['44.101 kHz (interpolated rows)', { sampleRate: 44101, seconds: 10.2 }, {}],
    ['1 kHz', { sampleRate: 1000, seconds: 60 }, {}],
  ];
  it.each(long)('%s: the first 10 s equal resampling the whole clip, then cropping', async (name, spec, options) => {
    const bytes = syntheticWav({ ...spec, seed: 21 });
    const expected = wholeThenCrop(bytes, options, BEATS_SAMPLES);
    expect(expected.length).toBe(BEATS_SAMPLES);
    expect(same(decodeWav(bytes, 'x.wav', { ...options, maxSamples: BEATS_SAMPLES }).samples, expected)).toBe(true);
    const file = path.join(dir, `${name.replace(/\W+/g, '_')}.wav`);
    writeFileSync(file, bytes);
    expect(same((await readWav(file, { ...options, maxSamples: BEATS_SAMPLES })).samples, expected)).toBe(true);
  });

  it('any crop length, at rates with short and long filters, equals the whole clip cropped', () => {
    for (const sampleRate of [768000, 96000, 44100, 11025, 1000]) {
      const bytes = syntheticWav({ sampleRate, seconds: 0.25, seed: 5 });
      const whole = wholeThenCrop(bytes, {}, Infinity);
      for (const maxSamples of [1, 2, 7, 333, whole.length - 1, whole.length, whole.length + 9]) {
        const got = decodeWav(bytes, 'x.wav', { maxSamples }).samples;
        expect(same(got, whole.subarray(0, maxSamples)), `${sampleRate} Hz, ${maxSamples}`).toBe(true);
      }
    }
  });

  it('reads only the filter margin past the crop: 10 s at 44.1 kHz needs 441 000 frames and a few hundred', () => {
    const resampler = new BlockResampler(44100 * 3600, 44100, 16000);
    const { start, end } = resampler.inputRange(0, BEATS_SAMPLES);
    expect(start).toBe(0);
    expect(end).toBeGreaterThan(441_000);
    expect(end - 441_000).toBeLessThan(resampler.taps);
  });
});

describe('bounds on what a read decodes', () => {
  const tenSeconds = syntheticWav({ sampleRate: 16000, seconds: 10, seed: 2 });

  it('refuses a whole-clip read over the limit, naming the file, the length and the option that raises it', () => {
    const options = { maxDurationSec: 9.5, maxDurationOption: '--max-duration' };
    const read = (): unknown => decodeWav(tenSeconds, 'ten.wav', options);
    expect(read).toThrow(GenrepError);
    expect(read).toThrow(
      'ten.wav: the clip is 10.000 s long (160000 frames at 16000 Hz), over the 9.5 s this command reads; ' +
        '--max-duration raises the limit',
    );
    expect(decodeWav(tenSeconds, 'ten.wav', { maxDurationSec: 10 }).samples.length).toBe(160000);
  });

  it('applies the limit to what is read: a crop within it passes however long the file', () => {
    expect(decodeWav(tenSeconds, 'ten.wav', { maxDurationSec: 1, maxSamples: 16000 }).samples.length).toBe(16000);
  });

  it('defaults to 10 minutes for a whole-clip read, and Infinity lifts it', () => {
    const elevenMinutes = syntheticWav({ sampleRate: 1000, seconds: 660, bits: 8, seed: 3 });
    const read = (): unknown => decodeWav(elevenMinutes, 'long.wav');
    expect(read).toThrow(/the clip is 660\.000 s long .*over the 600 s this command reads$/);
    expect(decodeWav(elevenMinutes, 'long.wav', { maxSamples: BEATS_SAMPLES }).samples.length).toBe(BEATS_SAMPLES);
    const unlimited = decodeWav(elevenMinutes, 'long.wav', { maxDurationSec: Infinity, targetSampleRate: null });
    expect(unlimited.samples.length).toBe(660_000);
  });

  it.each([
    [{ maxSamples: 0 }, /maxSamples must be a positive integer, got 0/],
    [{ maxSamples: 1.5 }, /maxSamples must be a positive integer/],
    [{ maxDurationSec: 0 }, /maxDurationSec must be positive, got 0/],
    [{ maxDurationSec: Number.NaN }, /maxDurationSec must be positive/],
    [{ targetSampleRate: 999 }, /targetSampleRate must be a whole number of Hz from 1000 to 768000, got 999/],
    [{ targetSampleRate: 768001 }, /targetSampleRate must be a whole number of Hz from 1000 to 768000/],
    [{ targetSampleRate: 16000.5 }, /targetSampleRate must be a whole number of Hz/],
  ] as Array<[ReadWavOptions, RegExp]>)('refuses the option %j', (options, message) => {
    expect(() => decodeWav(tenSeconds, 'ten.wav', options)).toThrow(message);
  });
});

describe('sample-rate floor and header walk limit', () => {
  const mono16 = (sampleRate: number) => ({ formatTag: 1, channels: 1, sampleRate, bitsPerSample: 16 });
  const data = chunk(
    'data',
    pcmBytes(
      Array.from({ length: 64 }, (_, i) => i * 100),
      16,
    ),
  );

  it.each([1, 2, 999])('refuses %i Hz, stating the 1 kHz floor, from the header alone', async (rate) => {
    const bytes = riff([fmtChunk(mono16(rate)), data]);
    const file = path.join(dir, `rate-${rate}.wav`);
    writeFileSync(file, bytes);
    const quoted = file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const message = new RegExp(`^${quoted}: sample rate ${rate} Hz is below the 1000 Hz this reader accepts`);
    await expect(readWavInfo(file)).rejects.toThrow(message);
    await expect(readWavInfo(file)).rejects.toMatchObject({
      code: 'UNSUPPORTED',
      data: { field: 'fmt.sampleRate', expected: 'at least 1000 Hz' },
    });
    expect(() => decodeWav(bytes, file)).toThrow(message);
  });

  it('accepts 1000 Hz, upsampled 16x', () => {
    const audio = decodeWav(riff([fmtChunk(mono16(1000)), data]), 'x.wav');
    expect(audio.samples.length).toBe(64 * 16);
  });

  it('walks at most 1000 chunks before the data chunk (fmt and data included)', async () => {
    const junk = (n: number) => Array.from({ length: n }, () => chunk('JUNK', []));
    const ok = riff([fmtChunk(mono16(16000)), ...junk(998), data]);
    expect(decodeWav(ok, 'ok.wav').samples.length).toBe(64);
    const tooMany = riff([fmtChunk(mono16(16000)), ...junk(999), data]);
    expect(() => decodeWav(tooMany, 'many.wav')).toThrow(
      /^many\.wav: more than 1000 chunks before the data chunk \(stopped at byte 8028\)/,
    );
    const file = path.join(dir, 'many.wav');
    writeFileSync(file, tooMany);
    await expect(readWavInfo(file)).rejects.toMatchObject({ code: 'CORRUPT' });
  });

  it('reads a header past the first 64 KiB block (a large LIST chunk before fmt)', async () => {
    const file = path.join(dir, 'big-list.wav');
    writeFileSync(file, riff([chunk('LIST', new Uint8Array(100_001)), fmtChunk(mono16(16000)), data]));
    const info = await readWavInfo(file);
    expect(info.frames).toBe(64);
    expect((await readWav(file)).samples).toEqual(decodeWav(riff([fmtChunk(mono16(16000)), data]), 'x').samples);
  });
});

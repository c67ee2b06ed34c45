import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeWav, encodeWavPcm16, readWav, readWavInfo } from '../../worker/src/audio';
import { GenrepError } from '../../worker/src/errors';
import { chunk, fmtChunk, floatBytes, listInfoChunk, pcmBytes, riff, wav, type FmtSpec } from './wavBytes';

const F = 'synthetic.wav';
const native = { targetSampleRate: null };

describe('decodeWav: sample formats scale like torchaudio.load', () => {
  it('8-bit unsigned PCM: (u - 128) / 128', () => {
    const stored = [0, 1, 127, 128, 129, 255];
    const audio = decodeWav(
      wav({ formatTag: 1, channels: 1, sampleRate: 16000, bitsPerSample: 8 }, pcmBytes(stored, 8)),
      F,
    );
    expect(Array.from(audio.samples)).toEqual([-1, -127 / 128, -1 / 128, 0, 1 / 128, 127 / 128]);
    expect(audio.info).toMatchObject({ encoding: 'pcm', bitsPerSample: 8, formatTag: 1, extensible: false, frames: 6 });
  });

  it('16-bit PCM: int16 / 32768', () => {
    const stored = [-32768, -12345, -1, 0, 1, 32767];
    const audio = decodeWav(
      wav({ formatTag: 1, channels: 1, sampleRate: 16000, bitsPerSample: 16 }, pcmBytes(stored, 16)),
      F,
    );
    expect(Array.from(audio.samples)).toEqual(stored.map((v) => v / 32768));
  });

  it('24-bit PCM: int24 / 2^23, sign-extended', () => {
    const stored = [-8388608, -1, 0, 1, 0x123456, 8388607, -0x654321];
    const audio = decodeWav(
      wav({ formatTag: 1, channels: 1, sampleRate: 16000, bitsPerSample: 24 }, pcmBytes(stored, 24)),
      F,
    );
    expect(Array.from(audio.samples)).toEqual(stored.map((v) => v / 2 ** 23));
    expect(audio.samples[0]).toBe(-1);
  });

  it('32-bit PCM: int32 / 2^31, rounded once to float32', () => {
    const stored = [-(2 ** 31), -1, 0, 1, 123456789, 2 ** 31 - 1];
    const audio = decodeWav(
      wav({ formatTag: 1, channels: 1, sampleRate: 16000, bitsPerSample: 32 }, pcmBytes(stored, 32)),
      F,
    );
    expect(Array.from(audio.samples)).toEqual(stored.map((v) => Math.fround(v / 2 ** 31)));
  });

  it('IEEE float 32 and 64: values as stored (64-bit rounded to float32), including out-of-range ones', () => {
    const values = [-1.5, -1, 0, 0.1, 1e-8, 3.25];
    const f32 = decodeWav(
      wav({ formatTag: 3, channels: 1, sampleRate: 16000, bitsPerSample: 32 }, floatBytes(values, 32)),
      F,
    );
    expect(Array.from(f32.samples)).toEqual(values.map(Math.fround));
    expect(f32.info.encoding).toBe('float');
    const f64 = decodeWav(
      wav({ formatTag: 3, channels: 1, sampleRate: 16000, bitsPerSample: 64 }, floatBytes(values, 64)),
      F,
    );
    expect(Array.from(f64.samples)).toEqual(values.map(Math.fround));
    expect(f64.info.bitsPerSample).toBe(64);
  });
});

describe('decodeWav: WAVE_FORMAT_EXTENSIBLE', () => {
  /** A 16 kHz WAVE_FORMAT_EXTENSIBLE file (format tag 0xFFFE) with the given sub-format fields. */
  const extensibleWav = (
    channels: number,
    bitsPerSample: number,
    extensible: NonNullable<FmtSpec['extensible']>,
    data: Uint8Array,
  ): Uint8Array => wav({ formatTag: 0xfffe, channels, sampleRate: 16000, bitsPerSample, extensible }, data);

  it('PCM sub-format, 2 channels', () => {
    const bytes = extensibleWav(2, 16, { subFormat: 1, channelMask: 3 }, pcmBytes([100, -200, 300, -400], 16));
    const audio = decodeWav(bytes, F, { channel: 1 });
    expect(Array.from(audio.samples)).toEqual([-200 / 32768, -400 / 32768]);
    expect(audio.info).toMatchObject({ formatTag: 0xfffe, encoding: 'pcm', extensible: true, channels: 2, frames: 2 });
  });

  it('24 valid bits in a 32-bit container scale by the container (= int24 / 2^23)', () => {
    const int24 = [-8388608, -3, 0, 5, 8388607];
    const container = int24.map((v) => v * 256);
    const bytes = extensibleWav(1, 32, { subFormat: 1, validBits: 24 }, pcmBytes(container, 32));
    const audio = decodeWav(bytes, F);
    expect(Array.from(audio.samples)).toEqual(int24.map((v) => v / 2 ** 23));
    expect(audio.info.bitsPerSample).toBe(32);
  });

  it('IEEE float sub-format', () => {
    const bytes = extensibleWav(1, 32, { subFormat: 3 }, floatBytes([0.5, -0.25, 0.125], 32));
    const audio = decodeWav(bytes, F);
    expect(Array.from(audio.samples)).toEqual([0.5, -0.25, 0.125]);
    expect(audio.info).toMatchObject({ encoding: 'float', extensible: true, formatTag: 0xfffe });
  });
});

describe('decodeWav: channels', () => {
  // Three channels, four frames: channel c of frame f holds 1000·c + f (mean = 1000 + f).
  const frames = [0, 1, 2, 3];
  const interleaved = frames.flatMap((f) => [f, 1000 + f, 2000 + f]);
  const bytes = wav({ formatTag: 1, channels: 3, sampleRate: 16000, bitsPerSample: 16 }, pcmBytes(interleaved, 16));

  it('defaults to channel 0', () => {
    expect(Array.from(decodeWav(bytes, F).samples)).toEqual(frames.map((f) => f / 32768));
  });

  it('reads a chosen channel', () => {
    expect(Array.from(decodeWav(bytes, F, { channel: 2 }).samples)).toEqual(frames.map((f) => (2000 + f) / 32768));
  });

  it('averages all channels for "mean"', () => {
    const expected = frames.map((f) => Math.fround((f / 32768 + (1000 + f) / 32768 + (2000 + f) / 32768) / 3));
    expect(Array.from(decodeWav(bytes, F, { channel: 'mean' }).samples)).toEqual(expected);
  });

  it.each([3, -1, 1.5, Number.NaN])('rejects channel %s with an error naming the file', (channel) => {
    expect(() => decodeWav(bytes, F, { channel })).toThrow(GenrepError);
    expect(() => decodeWav(bytes, F, { channel })).toThrow(/^synthetic\.wav: channel .* the file has 3 channel/);
  });
});

describe('decodeWav: chunk layout', () => {
  const spec = { formatTag: 1, channels: 1, sampleRate: 16000, bitsPerSample: 16 } as const;
  const stored = [1, -2, 3, -4, 5];
  const expected = stored.map((v) => v / 32768);

  it('skips unknown chunks, odd-sized ones with their pad byte, and LIST/fact chunks', () => {
    const bytes = wav(spec, pcmBytes(stored, 16), {
      before: [chunk('junk', [9, 9, 9]), chunk('bext', [1])],
      between: [listInfoChunk('odd title'), chunk('fact', [5, 0, 0, 0]), chunk('xyz ', [7, 7, 7, 7, 7])],
      after: [chunk('LIST', [1, 2, 3])],
    });
    expect(bytes.length % 2).toBe(0);
    expect(Array.from(decodeWav(bytes, F).samples)).toEqual(expected);
  });

  it('accepts an 18-byte fmt chunk (cbSize = 0)', () => {
    const fmt = fmtChunk(spec);
    const body = new Uint8Array(18);
    body.set(fmt.body);
    const bytes = riff([chunk('fmt ', body), chunk('data', pcmBytes(stored, 16))]);
    expect(Array.from(decodeWav(bytes, F).samples)).toEqual(expected);
  });

  it('drops a trailing partial frame of an odd-sized data chunk', () => {
    const data = new Uint8Array([...pcmBytes(stored, 16), 0x7f]);
    const audio = decodeWav(wav(spec, data), F);
    expect(Array.from(audio.samples)).toEqual(expected);
    expect(audio.info.frames).toBe(5);
  });

  it('does not trust the RIFF size field (0 from a streaming writer)', () => {
    const bytes = wav(spec, pcmBytes(stored, 16));
    new DataView(bytes.buffer).setUint32(4, 0, true);
    expect(Array.from(decodeWav(bytes, F).samples)).toEqual(expected);
  });

  it('reports frames and duration from the header', () => {
    const bytes = wav({ formatTag: 1, channels: 2, sampleRate: 8000, bitsPerSample: 24 }, new Uint8Array(6 * 4000));
    expect(decodeWav(bytes, F, native).info).toEqual({
      file: F,
      formatTag: 1,
      encoding: 'pcm',
      extensible: false,
      bitsPerSample: 24,
      channels: 2,
      sampleRate: 8000,
      frames: 4000,
      durationSec: 0.5,
    });
  });
});

describe('sample rate handling', () => {
  const stored = Array.from({ length: 800 }, (_, i) => Math.round(8000 * Math.sin(i / 5)));
  const at8k = wav({ formatTag: 1, channels: 1, sampleRate: 8000, bitsPerSample: 16 }, pcmBytes(stored, 16));

  it("resamples to 16 kHz by default and reports the file's own rate in info", () => {
    const audio = decodeWav(at8k, F);
    expect(audio.sampleRate).toBe(16000);
    expect(audio.samples.length).toBe(1600);
    expect(audio.info.sampleRate).toBe(8000);
  });

  it.each([null, 0])('keeps the native rate when targetSampleRate is %s', (targetSampleRate) => {
    const audio = decodeWav(at8k, F, { targetSampleRate });
    expect(audio.sampleRate).toBe(8000);
    expect(Array.from(audio.samples)).toEqual(stored.map((v) => v / 32768));
  });

  it('resamples to any requested rate', () => {
    const audio = decodeWav(at8k, F, { targetSampleRate: 24000 });
    expect(audio.sampleRate).toBe(24000);
    expect(audio.samples.length).toBe(2400);
  });

  it('passes 16 kHz input through bit-exact', () => {
    const bytes = wav({ formatTag: 1, channels: 1, sampleRate: 16000, bitsPerSample: 16 }, pcmBytes(stored, 16));
    expect(Array.from(decodeWav(bytes, F).samples)).toEqual(stored.map((v) => v / 32768));
  });
});

describe('files on disk', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'genrep-audio-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('readWav reads in blocks and matches decodeWav; readWavInfo matches its info', async () => {
    // 3 channels of 24-bit, long enough (≈ 5.8 MB) to need two 4 MiB read blocks.
    const frames = 640_000;
    const values = Array.from({ length: frames * 3 }, (_, i) => ((i * 2654435761) % 16777216) - 8388608);
    const bytes = wav({ formatTag: 1, channels: 3, sampleRate: 16000, bitsPerSample: 24 }, pcmBytes(values, 24), {
      between: [listInfoChunk('x')],
    });
    const file = path.join(dir, 'long24.wav');
    writeFileSync(file, bytes);
    const fromDisk = await readWav(file, { channel: 'mean' });
    const inMemory = decodeWav(bytes, file, { channel: 'mean' });
    expect(fromDisk.samples.length).toBe(frames);
    expect(Buffer.from(fromDisk.samples.buffer).equals(Buffer.from(inMemory.samples.buffer))).toBe(true);
    const expectedLast = Math.fround(
      (values[3 * frames - 3]! / 2 ** 23 + values[3 * frames - 2]! / 2 ** 23 + values[3 * frames - 1]! / 2 ** 23) / 3,
    );
    expect(fromDisk.samples[frames - 1]).toBe(expectedLast);
    expect(await readWavInfo(file)).toEqual(inMemory.info);
  });
});

describe('encodeWavPcm16', () => {
  it('writes a canonical mono 16-bit header', () => {
    const bytes = encodeWavPcm16(new Float32Array(3), 22050);
    const view = new DataView(bytes.buffer);
    expect(new TextDecoder().decode(bytes.subarray(0, 4))).toBe('RIFF');
    expect(view.getUint32(4, true)).toBe(36 + 6);
    expect(new TextDecoder().decode(bytes.subarray(8, 16))).toBe('WAVEfmt ');
    expect([
      view.getUint16(20, true),
      view.getUint16(22, true),
      view.getUint32(24, true),
      view.getUint32(28, true),
    ]).toEqual([1, 1, 22050, 44100]);
    expect([view.getUint16(32, true), view.getUint16(34, true), view.getUint32(40, true)]).toEqual([2, 16, 6]);
    expect(bytes.length).toBe(50);
  });

  it('round-trips k/32768 values exactly and clips the rest', () => {
    const exact = Float32Array.from([-1, -0.5, -1 / 32768, 0, 1 / 32768, 12345 / 32768, 32767 / 32768]);
    const audio = decodeWav(encodeWavPcm16(exact, 16000), F);
    expect(Array.from(audio.samples)).toEqual(Array.from(exact));
    const wild = decodeWav(encodeWavPcm16(Float32Array.from([1, 2, -3, Number.NaN]), 16000), F);
    expect(Array.from(wild.samples)).toEqual([32767 / 32768, 32767 / 32768, -1, 0]);
  });
});

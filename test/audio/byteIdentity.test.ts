import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeWav, readWav, type ReadWavOptions } from '../../worker/src/audio';
import { fbankStatistics } from '../../worker/src/embedders';
import { BEATS_SAMPLES, beatsFbank } from '../../worker/src/fbank';
import { clipAudio, spectrogram } from '../../worker/src/server/handlers/clipTasks';
import { sha256Of, syntheticWav, type SyntheticWavSpec } from './syntheticWav';

/**
 * Outputs for valid inputs are pinned bit for bit: each hash below was taken from the reader as it was before
 * block-wise decoding, crop-before-resample and the bounds (commit 892b404: decode the whole clip, resample all
 * of it, crop afterwards). Several cases span more than one 4 MiB read block (8-channel 24-bit, 50 s at 48 kHz),
 * so the seams between blocks are covered too.
 */
const dir = mkdtempSync(path.join(os.tmpdir(), 'genrep-identity-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const READS: Array<[string, SyntheticWavSpec, ReadWavOptions, string]> = [
  [
    '44.1 kHz 16-bit',
    { sampleRate: 44100, seconds: 3 },
    {},
    '9a114cbbac66b764ea1d009d61b0ae9de863e39d8a2b547451ff62e444d55d2e',
  ],
  [
    '48 kHz 24-bit stereo mean',
    { sampleRate: 48000, seconds: 3, channels: 2, bits: 24 },
    { channel: 'mean' },
    '00cf3f9bc78f1c73733d13b670f3d88966928347eae4a9a67a2bd562d65afcd2',
  ],
  [
    '8 kHz 8-bit',
    { sampleRate: 8000, seconds: 3, bits: 8 },
    {},
    '39df905762660b95e6f9d44db5a131aaf88a270f9c8c3e41ed80ab260ed18c77',
  ],
  [
    '22.05 kHz float',
    { sampleRate: 22050, seconds: 2, bits: 32, float: true },
    {},
    '7e37783c19cc114e7a500fe7f48173b83f7262b482ad96fbb3a30b319d2b1648',
  ],
  [
    '44.101 kHz (interpolated rows)',
    { sampleRate: 44101, seconds: 2 },
    {},
    '08144a3501cb234b84600722ed11c9fc754d5e04d6609848959a870e7952d852',
  ],
  [
    '96 kHz 32-bit channel 1',
    { sampleRate: 96000, seconds: 1, channels: 2, bits: 32 },
    { channel: 1 },
    'd8ccee5d3f7b9caeafb61fa7482a615848ff58e1c31132084514342aba02a335',
  ],
  [
    '11.025 kHz',
    { sampleRate: 11025, seconds: 2 },
    {},
    '850f8084558712fee629df6bbf8d9890e0f769911191a70f80e3132561f6e486',
  ],
  [
    '1 kHz (the floor)',
    { sampleRate: 1000, seconds: 5 },
    {},
    'dbf38238e91dd285e2b22f573784deaf9d3cfddc4429449e53a678a60c00047a',
  ],
  [
    '768 kHz (the ceiling)',
    { sampleRate: 768000, seconds: 0.2 },
    {},
    '8a242b0469381e2b7e3b6339f7dff262d79c80c5f4c957e00ddf162853c9ce5c',
  ],
  [
    '8 kHz to 24 kHz',
    { sampleRate: 8000, seconds: 2 },
    { targetSampleRate: 24000 },
    'cb633c0309a9d6128e4b058d2bb7e0dd2dd53edd926c91cd24137b9f38ac521f',
  ],
  [
    '16 kHz (copied)',
    { sampleRate: 16000, seconds: 3 },
    {},
    '445a3ee1dc2b3036905f539356b563b03b548efd65dce3e6ba6857552a3308a4',
  ],
  [
    '44.1 kHz native rate',
    { sampleRate: 44100, seconds: 1 },
    { targetSampleRate: null },
    'f849423de54a024268cfb1ced55e1fff2915dac9e05647c0880eb487d0660caf',
  ],
  [
    '96 kHz 24-bit 8-ch mean (2 blocks)',
    { sampleRate: 96000, seconds: 3, channels: 8, bits: 24 },
    { channel: 'mean' },
    '9f4d3f6310dece7d2e4d44cafc8ffdcff7ba4142ceceb498279ce54b6d2b1d85',
  ],
  [
    '48 kHz 50 s (2 blocks)',
    { sampleRate: 48000, seconds: 50 },
    {},
    '4e0900774424d23d8b1afdb9c5027fabbeef3375b92d9770518bdfa4d07365f0',
  ],
  [
    '44.101 kHz 24-bit 8-ch channel 3 (blocks)',
    { sampleRate: 44101, seconds: 5, channels: 8, bits: 24 },
    { channel: 3 },
    '756a531f7d8161f908ebb1ca9dff9e197b39bc782fedab4b683aa9dc8fb36b80',
  ],
  [
    '8 kHz 32-bit 8-ch native (blocks)',
    { sampleRate: 8000, seconds: 30, channels: 8, bits: 32 },
    { targetSampleRate: null, channel: 7 },
    '21e27338bcd56af9e92034c405677dc491085a1f4841ed003b8ba7956b669e19',
  ],
];

describe('the reader gives the same bits as before', () => {
  it.each(READS)('%s: decodeWav and readWav', async (name, spec, options, hash) => {
    const bytes = syntheticWav({ ...spec, seed: 7 });
    expect(sha256Of(decodeWav(bytes, 'x.wav', options).samples)).toBe(hash);
    const file = path.join(dir, `${name.replace(/[^\w.]+/g, '_')}.wav`);
    writeFileSync(file, bytes);
    expect(sha256Of((await readWav(file, options)).samples)).toBe(hash);
  });

  it('BEATs input, fbank-stats and spectrogram of a 25 s 44.1 kHz clip (the first two read 10 s now)', async () => {
    const file = path.join(dir, 'long44k.wav');
    writeFileSync(file, syntheticWav({ sampleRate: 44100, seconds: 25, seed: 3 }));
    const cropped = (await readWav(file, { maxSamples: BEATS_SAMPLES })).samples;
    expect(cropped.length).toBe(BEATS_SAMPLES);
    expect(sha256Of(beatsFbank(cropped).data)).toBe('43d67af98161040012d51207ecb33ee90312e8947a8f04b14e1044671db19095');
    expect(sha256Of(fbankStatistics(cropped))).toBe('1eea6fdcd7d5611994321ecaab216c54d4302d11e6482137da4cc855268724af');
    const spec = await spectrogram({ file });
    expect(
      createHash('sha256')
        .update(JSON.stringify({ ...spec, file: '' }))
        .digest('hex'),
    ).toBe('8bdec232278da8b4b8a0d8fe209aed82979b8031301767d1cf2862e02976767d');
  });

  it('clipAudio of a 40 s 48 kHz 24-bit stereo clip (cut at 30 s, now read only that far)', async () => {
    const file = path.join(dir, 'long48k.wav');
    writeFileSync(file, syntheticWav({ sampleRate: 48000, seconds: 40, channels: 2, bits: 24, seed: 4 }));
    const audio = await clipAudio({ file });
    expect(audio.truncated).toBe(true);
    expect(
      createHash('sha256')
        .update(JSON.stringify({ ...audio, file: '' }))
        .digest('hex'),
    ).toBe('ecee48c2cf01b5883d1cb70f0922123c7fba4f1db07488b9674d27f51674645d');
  });
});

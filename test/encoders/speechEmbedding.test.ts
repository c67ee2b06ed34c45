import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeWav, encodeWavPcm16 } from '../../worker/src/audio';
import { decodeNpy } from '../../worker/src/io/npy';
import type { EncoderDescriptor } from '../../worker/src/protocol/encoderDescriptor';
import { tempDir } from '../helpers/cli';
import { buildFamilyModel, reference, referenceMel, writeFamilyModel } from '../helpers/familyModels';

/**
 * `genrep embed --model <descriptor>` with the speech-embedding pair (models/encoders/speech-embedding.encoder.json:
 * openWakeWord's melspectrogram.onnx front-end, then embedding_model.onnx over windows of 76 mel frames every 8) as a
 * user would supply it: both files beside the descriptor, here random-weight stand-ins of the same layouts.
 */

const GENREP = path.resolve(__dirname, '..', '..', 'worker', 'bin', 'genrep.js');
const SHIPPED = path.resolve(__dirname, '..', '..', 'models', 'encoders', 'speech-embedding.encoder.json');
const tmp = tempDir('genrep-speech-embedding-');
afterAll(() => tmp.cleanup());
const execFileAsync = promisify(execFile);

const D = 8;
const built = buildFamilyModel('speech-embedding', { dim: D });

/** A 16 kHz clip of `samples` samples (a multiple of 160: the stand-in's mel frames). */
function clip(samples: number, f: number): Float32Array {
  return Float32Array.from({ length: samples }, (_, t) => 0.4 * Math.sin((2 * Math.PI * f * t) / 16000));
}

/**
 * The direct computation: int16-scale samples → mel stand-in [frames × 32] → (x + offset) / divide → windows of 76
 * frames every 8, the last partial one (or a clip shorter than one window) zero-padded → encoder stand-in [1, 1, D] →
 * mean over windows.
 */
function direct(samples: Float32Array, affine: { offset: number; divide: number } | undefined): number[] {
  const mel = referenceMel(
    built,
    samples.map((x) => x * 32768),
  );
  if (affine) for (let i = 0; i < mel.length; i += 1) mel[i] = (mel[i]! + affine.offset) / affine.divide;
  const frames = mel.length / 32;
  const sum = new Array<number>(D).fill(0);
  let windows = 0;
  for (let start = 0; ; start += 8) {
    const w = new Float32Array(76 * 32);
    w.set(mel.subarray(start * 32, Math.min(frames, start + 76) * 32));
    const out = reference(built, w)['conv2d_19']!;
    for (let d = 0; d < D; d += 1) sum[d]! += out[d]!;
    windows += 1;
    if (start + 76 >= frames) break;
  }
  return sum.map((s) => s / windows);
}

const shipped = JSON.parse(readFileSync(SHIPPED, 'utf8')) as EncoderDescriptor;
const withoutAffine = ((): EncoderDescriptor => {
  if (shipped.frontEnd.kind !== 'onnx') throw new Error('the speech embedding has an ONNX front-end');
  const { affine: _affine, ...frontEnd } = shipped.frontEnd;
  return { ...shipped, frontEnd };
})();

describe('genrep embed --model speech-embedding descriptor', () => {
  // The shipped descriptor needs OnnxFrontEnd.affine (branch i12-p2a); the copy without it runs the same path now.
  it.each([
    ['the shipped descriptor (x / 10 + 2 after the mel model)', 'shipped', shipped],
    ['a copy without the affine step', 'plain', withoutAffine],
  ] as const)(
    '%s: vectors equal the direct computation',
    async (_label, name, descriptor) => {
      const dir = tmp.file(name);
      writeFamilyModel(dir, descriptor, built);
      const descriptorFile = path.join(dir, 'speech-embedding.encoder.json');
      writeFileSync(descriptorFile, JSON.stringify(descriptor, null, 2));
      // 1.1 s: 110 mel frames, windows at 0 … 40, the last one partial; 0.5 s: 50 frames, shorter than one window.
      const wavs = [
        { file: path.join(dir, 'long.wav'), samples: clip(17600, 440) },
        { file: path.join(dir, 'short.wav'), samples: clip(8000, 700) },
      ];
      for (const w of wavs) writeFileSync(w.file, encodeWavPcm16(w.samples, 16000));
      const out = path.join(dir, 'out.npy');
      await execFileAsync(
        process.execPath,
        [
          GENREP,
          'embed',
          '--model',
          descriptorFile,
          '--device',
          'cpu',
          '--threads',
          '1',
          '--out',
          out,
          ...wavs.map((w) => w.file),
        ],
        { timeout: 30_000 },
      );
      const npy = decodeNpy(readFileSync(out), out);
      expect(npy.shape).toEqual([1, 2, D]);
      wavs.forEach((w, i) => {
        const decoded = decodeWav(readFileSync(w.file), w.file).samples;
        const expected = direct(decoded, descriptor.frontEnd.kind === 'onnx' ? descriptor.frontEnd.affine : undefined);
        const got = Array.from(npy.data.subarray(i * D, (i + 1) * D));
        const scale = Math.max(...expected.map(Math.abs));
        const err = Math.max(...got.map((g, d) => Math.abs(g - expected[d]!)));
        expect(err / scale, w.file).toBeLessThanOrEqual(1e-4);
      });
    },
    40_000,
  );
});

import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWav } from '../../worker/src/audio';
import { createEmbedder } from '../../worker/src/embedders';
import type { FrontEndOutput } from '../../worker/src/encoders/frontEnd';
import { createFrontEnd } from '../../worker/src/encoders/frontEnds';
import type { EncoderDescriptor } from '../../worker/src/protocol/encoderDescriptor';
import type { RunResults } from '../../worker/src/protocol/results';
import { AUDIO_FIXTURES } from '../helpers/audioFixtures';
import { tempDir } from '../helpers/cli';
import type { StandInFamily } from '../helpers/familyModels';
import { buildFamilyModel, reference, writeFamilyModel } from '../helpers/familyModels';
import { writeTinyDataset } from '../helpers/tinyDataset';

/**
 * Every shipped descriptor (models/encoders/) over a random-weight stand-in of its family (test/helpers/familyModels):
 * the embedder's pooled vectors equal the direct computation (the front-end, the stand-in's JS reference, pooling by
 * hand), and `genrep run` with a descriptor sweeps its layers, caches its features and keys them on its content.
 */

const SHIPPED = path.resolve(__dirname, '..', '..', 'models', 'encoders');
const GENREP = path.resolve(__dirname, '..', '..', 'worker', 'bin', 'genrep.js');
const tmp = tempDir('genrep-families-');
afterAll(() => tmp.cleanup());

const shipped = readdirSync(SHIPPED)
  .filter((f) => f.endsWith('.encoder.json'))
  .sort()
  .map((file) => ({
    file,
    descriptor: JSON.parse(readFileSync(path.join(SHIPPED, file), 'utf8')) as EncoderDescriptor,
  }));

/**
 * The descriptor as the embedder gets it here. The speech embedding's `frontEnd.affine` (x / 10 + 2) is left out:
 * the ONNX front-end applies it only once i12-p2a is merged; test/encoders/speechEmbedding.test.ts checks it.
 */
function testDescriptor(descriptor: EncoderDescriptor): EncoderDescriptor {
  if (descriptor.frontEnd.kind !== 'onnx') return descriptor;
  const { affine: _affine, ...frontEnd } = descriptor.frontEnd;
  return { ...descriptor, frontEnd };
}

/** Deterministic 16 kHz clips (1 s by default): two tones and a little pseudo-noise, different per `seed`. */
function clip(seed: number, samples = 16000): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: samples }, (_, t) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (
      0.3 * Math.sin((2 * Math.PI * (220 + 40 * seed) * t) / 16000) +
      0.1 * Math.sin((2 * Math.PI * 1330 * t) / 16000) +
      0.05 * (s / 4294967296 - 0.5)
    );
  });
}

/**
 * Crops [frames × bins] to `frames` frames, or pads it: with `padValue`, after whole repeats of the clip when `fill`
 * is 'repeat' (transformers' "repeatpad": np.tile the clip floor(target / length) times, then pad the rest).
 */
function fixLength(
  out: FrontEndOutput,
  frames: number,
  padValue = 0,
  fill: 'zeros' | 'repeat' = 'zeros',
): FrontEndOutput {
  const data = new Float32Array(frames * out.bins).fill(padValue);
  const kept = Math.min(out.frames, frames) * out.bins;
  const repeats = fill === 'repeat' && out.frames > 0 && out.frames < frames ? Math.floor(frames / out.frames) : 1;
  for (let r = 0; r < repeats; r += 1) data.set(out.data.subarray(0, kept), r * kept);
  return { data, frames, bins: out.bins };
}

/** [T × F] → [F × T]. */
function transpose(out: FrontEndOutput): Float32Array {
  const t = new Float32Array(out.data.length);
  // f < bins, j < frames: both indices < frames · bins = data.length.
  for (let j = 0; j < out.frames; j += 1)
    for (let f = 0; f < out.bins; f += 1) t[f * out.frames + j] = out.data[j * out.bins + f]!;
  return t;
}

/** The encoder input for one clip, row-major without B, from the front-end's [T × F] in the descriptor's layout. */
function modelInput(out: FrontEndOutput, layout: string): Float32Array {
  return layout === 'B,F,T' || layout === 'B,1,F,T' ? transpose(out) : out.data;
}

/** Mean (and population std) over the rows of [n × d]. */
function rowStats(m: Float32Array, n: number, d: number): { mean: number[]; std: number[] } {
  const mean = Array.from({ length: d }, (_, c) => {
    let s = 0;
    for (let r = 0; r < n; r += 1) s += m[r * d + c]!;
    return s / n;
  });
  const std = mean.map((mu, c) => {
    let s = 0;
    for (let r = 0; r < n; r += 1) s += (m[r * d + c]! - mu) ** 2;
    return Math.sqrt(s / n);
  });
  return { mean, std };
}

type Pooled = Record<'temporal' | 'spatial' | 'spectral', number[] | undefined>;

/** One output's pooled vectors by hand, from its values (row-major, without B) in its layout. */
function poolByHand(values: Float32Array, layout: string, D: number, statistics: 'mean' | 'mean+std'): Pooled {
  const withStd = (s: { mean: number[]; std: number[] }): number[] =>
    statistics === 'mean+std' ? [...s.mean, ...s.std] : s.mean;
  switch (layout) {
    case 'B,D':
    case 'B,1,1,D': {
      const v = withStd(rowStats(values, 1, D));
      return { temporal: v, spatial: v, spectral: undefined };
    }
    case 'B,T,D': {
      const v = withStd(rowStats(values, values.length / D, D));
      return { temporal: v, spatial: v, spectral: undefined };
    }
    case 'B,D,F,T': {
      // CLAP's grid [D, 8, 1001] → tokens [T, F, D].
      const F = 8;
      const T = values.length / (D * F);
      const tokens = new Float32Array(values.length);
      for (let c = 0; c < D; c += 1)
        for (let f = 0; f < F; f += 1)
          for (let t = 0; t < T; t += 1) tokens[(t * F + f) * D + c] = values[(c * F + f) * T + t]!;
      const perBin = Array.from({ length: F }, (_, f) => {
        const rows = new Float32Array(T * D);
        for (let t = 0; t < T; t += 1) rows.set(tokens.subarray((t * F + f) * D, (t * F + f + 1) * D), t * D);
        return rowStats(rows, T, D);
      });
      const perFrame = Array.from({ length: T }, (_, t) => rowStats(tokens.subarray(t * F * D, (t + 1) * F * D), F, D));
      const all = rowStats(tokens, T * F, D);
      const temporal =
        statistics === 'mean+std'
          ? [...perBin.flatMap((s) => s.mean), ...perBin.flatMap((s) => s.std)]
          : perBin.flatMap((s) => s.mean);
      const spectral =
        statistics === 'mean+std'
          ? [...perFrame.flatMap((s) => s.mean), ...perFrame.flatMap((s) => s.std)]
          : perFrame.flatMap((s) => s.mean);
      return { temporal, spatial: withStd(all), spectral };
    }
    default:
      throw new Error(`no hand pooling for layout ${layout}`);
  }
}

/** Each layer's output name and layout, in the embedder's layer order. */
function layers(descriptor: EncoderDescriptor): { name: string; layout: string }[] {
  return descriptor.outputs.flatMap((o) =>
    'names' in o
      ? Array.from({ length: o.count }, (_, i) => ({
          name: o.names.replace('{n}', String(o.from + i)),
          layout: o.layout,
        }))
      : [{ name: o.name, layout: o.layout }],
  );
}

const D = 8;

/** The first second of a real DCASE 2023 fan clip (test/fixtures/audio), 16 kHz. */
const FAN = path.join(AUDIO_FIXTURES, 'dcase2023_fan_test_section_00_source_test_anomaly_0022_m-n_W.wav');
const realClip = decodeWav(readFileSync(FAN), FAN).samples.slice(0, 16000);

/** The direct computation for one clip: per layer, its pooled vectors. */
async function direct(family: StandInFamily, descriptor: EncoderDescriptor, dir: string, clip16k: Float32Array) {
  const built = buildFamilyModel(family, { dim: D });
  const fe = await createFrontEnd(descriptor.frontEnd, dir, { threads: 1 });
  try {
    let waveform = fe.toModelRate(clip16k);
    const length = descriptor.length;
    if (length?.on === 'waveform') {
      waveform = fixLength(
        { data: waveform, frames: waveform.length, bins: 1 },
        length.frames,
        length.padValue,
        length.fill,
      ).data;
    }
    let features = await fe.features(waveform);
    if (length && length.on !== 'waveform') features = fixLength(features, length.frames, length.padValue, length.fill);
    features = fe.finish(features);
    const statistics = descriptor.statistics ?? 'mean';
    if (descriptor.window) {
      // The speech embedding: windows of 76 frames every 8, the last partial one zero-padded; outputs [1, 1, D]
      // stacked in time, so the temporal mean over windows.
      const { frames: size, hop } = descriptor.window;
      const outs: Float32Array[] = [];
      for (let start = 0; ; start += hop) {
        const w = fixLength(
          { data: features.data.subarray(start * features.bins), frames: features.frames - start, bins: features.bins },
          size,
        );
        outs.push(reference(built, w.data)['conv2d_19']!);
        if (start + size >= features.frames) break;
      }
      const stacked = new Float32Array(outs.length * D);
      outs.forEach((o, i) => stacked.set(o, i * D));
      return [poolByHand(stacked, 'B,T,D', D, statistics)];
    }
    const outputs = reference(built, modelInput(features, descriptor.input.layout));
    return layers(descriptor).map(({ name, layout }) => poolByHand(outputs[name]!, layout, D, statistics));
  } finally {
    await fe.dispose();
  }
}

function relativeError(actual: ArrayLike<number>, expected: readonly number[]): number {
  expect(actual.length).toBe(expected.length);
  let num = 0;
  let den = 0;
  for (let i = 0; i < expected.length; i += 1) {
    num = Math.max(num, Math.abs(actual[i]! - expected[i]!));
    den = Math.max(den, Math.abs(expected[i]!));
  }
  return num / Math.max(den, 1e-12);
}

describe.each(shipped)('$file over a stand-in of its family', ({ file, descriptor: shippedDescriptor }) => {
  const family = shippedDescriptor.family as StandInFamily;
  it('pools each layer as the direct computation does (≤ 1e-4 relative)', async () => {
    const dir = tmp.file(family + '-' + file.replace('.encoder.json', ''));
    mkdirSync(dir, { recursive: true });
    const descriptor = testDescriptor(shippedDescriptor);
    writeFamilyModel(dir, descriptor, buildFamilyModel(family, { dim: D }));
    const descriptorFile = path.join(dir, file);
    writeFileSync(descriptorFile, JSON.stringify(descriptor, null, 2));
    const embedder = await createEmbedder(
      { kind: 'encoder', descriptor: descriptorFile },
      { threads: 1, device: 'cpu' },
    );
    try {
      const expectedLayers = layers(descriptor);
      expect(embedder.numLayers).toBe(descriptor.window ? 1 : expectedLayers.length);
      const clips = [realClip, clip(2, 17600)];
      const all = Array.from({ length: embedder.numLayers }, (_, i) => i + 1);
      const expected = await Promise.all(clips.map((c) => direct(family, descriptor, dir, c)));
      for (const pooling of ['temporal', 'spatial', 'spectral'] as const) {
        const applies = expected[0]!.map((layer) => layer[pooling] !== undefined);
        const layerNumbers = all.filter((_, i) => applies[i]);
        if (layerNumbers.length === 0) continue;
        const got = await embedder.embed(clips, { layers: layerNumbers, pooling, batchSize: 2 });
        layerNumbers.forEach((layer, k) => {
          const matrix = got[k]!;
          const dim = embedder.dim(pooling) === matrix.length / clips.length ? matrix.length / clips.length : NaN;
          clips.forEach((_, c) => {
            const want = expected[c]![layer - 1]![pooling]!;
            expect(dim, `${pooling} layer ${layer}`).toBe(want.length);
            const row = matrix.subarray(c * dim, (c + 1) * dim);
            expect(relativeError(row, want), `${pooling} layer ${layer} clip ${c}`).toBeLessThanOrEqual(1e-4);
          });
        });
      }
    } finally {
      await embedder.dispose();
    }
  }, 30_000);
});

describe('mean+std statistics over a stand-in', () => {
  it('appends the population std after the mean (wav2vec2 descriptor)', async () => {
    const entry = shipped.find((s) => s.descriptor.family === 'wav2vec2')!;
    const dir = tmp.file('wav2vec2-std');
    mkdirSync(dir, { recursive: true });
    const descriptor: EncoderDescriptor = { ...entry.descriptor, statistics: 'mean+std' };
    writeFamilyModel(dir, descriptor, buildFamilyModel('wav2vec2', { dim: D }));
    writeFileSync(path.join(dir, 'std.encoder.json'), JSON.stringify(descriptor));
    const embedder = await createEmbedder(
      { kind: 'encoder', descriptor: path.join(dir, 'std.encoder.json') },
      { threads: 1, device: 'cpu' },
    );
    try {
      expect(embedder.dim('temporal')).toBe(2 * D);
      const c = clip(3);
      const [l1, l12] = await embedder.embed([c], { layers: [1, 12], pooling: 'temporal' });
      const expected = await direct('wav2vec2', descriptor, dir, c);
      expect(relativeError(l1!, expected[0]!.temporal!)).toBeLessThanOrEqual(1e-4);
      expect(relativeError(l12!, expected[11]!.temporal!)).toBeLessThanOrEqual(1e-4);
    } finally {
      await embedder.dispose();
    }
  });
});

const execFileAsync = promisify(execFile);

async function genrepRun(config: string): Promise<{ stdout: string; stderr: string }> {
  return execFileAsync(process.execPath, [GENREP, 'run', config], { cwd: tmp.dir, timeout: 60_000 });
}

describe('genrep run with an encoder descriptor', () => {
  beforeAll(() => {
    writeTinyDataset(tmp.file('data'), { machines: ['fan'], trainSource: 6, trainTarget: 2, testPerGroup: 2 });
  });

  it.each(['wav2vec2-base', 'panns-cnn14'])(
    '%s: sweeps its layers with finite AUCs, caches features, keys them on the descriptor content',
    async (name) => {
      const entry = shipped.find((s) => s.file === `${name}.encoder.json`)!;
      const family = entry.descriptor.family as StandInFamily;
      const dir = tmp.file(`run-${name}`);
      mkdirSync(dir, { recursive: true });
      writeFamilyModel(dir, entry.descriptor, buildFamilyModel(family, { dim: D }));
      const descriptorFile = path.join(dir, `${name}.encoder.json`);
      writeFileSync(descriptorFile, JSON.stringify(entry.descriptor, null, 2));
      const config = tmp.file(`${name}.genrep.json`);
      writeFileSync(
        config,
        JSON.stringify({
          name,
          dataset: { root: 'data' },
          embedder: { kind: 'encoder', descriptor: descriptorFile },
          mixup: { K_s: 2, lambda: 0.9 },
          cacheDir: `cache-${name}`,
          output: `out-${name}`,
        }),
      );
      const first = await genrepRun(config);
      expect(first.stdout).toMatch(/features: 0 from cache, 16 extracted/);
      const results = JSON.parse(readFileSync(path.join(tmp.dir, `out-${name}`, 'results.json'), 'utf8')) as RunResults;
      expect(results.embedder.numLayers).toBe(layers(entry.descriptor).length);
      const sweep = results.variants[0]!.machines[0]!.layers;
      expect(sweep.map((l) => l.layer)).toEqual(layers(entry.descriptor).map((_, i) => i + 1));
      for (const l of sweep) expect(Number.isFinite(l.metrics?.auc), `layer ${l.layer}`).toBe(true);

      const second = await genrepRun(config);
      expect(second.stdout).toMatch(/features: 16 from cache, 0 extracted/);

      writeFileSync(descriptorFile, JSON.stringify({ ...entry.descriptor, statistics: 'mean+std' }, null, 2));
      const third = await genrepRun(config);
      expect(third.stdout).toMatch(/features: 0 from cache, 16 extracted/);
    },
    60_000,
  );
});

import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmbedder, type FrontEndFactory } from '../../worker/src/embedders';
import type { FrontEndRunner } from '../../worker/src/encoders/frontEnd';
import { GraphBuilder, int, ints } from '../../worker/src/onnx/graphBuilder';
import { TensorDataType } from '../../worker/src/onnx/proto';
import type { EncoderDescriptor } from '../../worker/src/protocol/encoderDescriptor';

let dir: string;
beforeAll(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'genrep-encoder-'));
});
afterAll(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

/** The waveform itself at 16 kHz, [samples × 1]. */
const waveform: FrontEndRunner = {
  sampleRate: 16000,
  bins: 1,
  toModelRate: (clip) => clip,
  features: (w) => Promise.resolve({ data: w, frames: w.length, bins: 1 }),
  finish: (o) => o,
  dispose: () => Promise.resolve(),
};

/** A fake [T × 3] front-end: frame t of waveform w is [w[t], 2·w[t], t]. */
const threeBins: FrontEndRunner = {
  ...waveform,
  bins: 3,
  features: (w) =>
    Promise.resolve({
      data: Float32Array.from(
        { length: w.length * 3 },
        (_, i) => (i % 3 === 2 ? Math.floor(i / 3) : (i % 3) + 1) * (i % 3 === 2 ? 1 : w[Math.floor(i / 3)]!),
      ),
      frames: w.length,
      bins: 3,
    }),
};

const factory =
  (runner: FrontEndRunner): FrontEndFactory =>
  () =>
    Promise.resolve(runner);

async function writeModel(name: string, build: (g: GraphBuilder) => void): Promise<string> {
  const g = new GraphBuilder(name);
  build(g);
  const file = path.join(dir, `${name}.onnx`);
  await fsp.writeFile(file, g.encode({ opsets: [{ domain: '', version: 17 }], producerVersion: 'test' }));
  return file;
}

async function writeDescriptor(name: string, descriptor: EncoderDescriptor): Promise<string> {
  const file = path.join(dir, `${name}.encoder.json`);
  await fsp.writeFile(file, JSON.stringify(descriptor, null, 2));
  return file;
}

/**
 * audio [B, S] → seq [B, S/4, 4] (the samples, four a token) × gain; vec [B, 4] its mean over tokens; stack
 * [2, B, S/4, 4] (seq and 2·seq, as two layers).
 */
const waveModel = (g: GraphBuilder, inputType: 1 | 7 = TensorDataType.FLOAT, extra = false) => {
  const x = g.input('audio', inputType, ['batch', 'samples']);
  const gain = g.input('gain', TensorDataType.FLOAT, [1]);
  if (extra) g.input('mask', TensorDataType.INT64, ['batch', 'samples']);
  const float = inputType === TensorDataType.FLOAT ? x : g.op('Cast', [x], { to: int(TensorDataType.FLOAT) });
  const shaped = g.op('Reshape', [float, g.int64Tensor('shape', [0, -1, 4])]);
  const seq = g.op('Mul', [shaped, gain], {}, { outputs: ['seq'] });
  g.op('ReduceMean', [seq], { axes: ints([1]), keepdims: int(0) }, { outputs: ['vec'] });
  const doubled = g.op('Add', [seq, seq]);
  const axes0 = g.int64Tensor('axes0', [0]);
  g.op(
    'Concat',
    [g.op('Unsqueeze', [seq, axes0]), g.op('Unsqueeze', [doubled, axes0])],
    { axis: int(0) },
    { outputs: ['stack'] },
  );
  g.output('seq', TensorDataType.FLOAT, ['batch', 'tokens', 4]);
  g.output('vec', TensorDataType.FLOAT, ['batch', 4]);
  g.output('stack', TensorDataType.FLOAT, [2, 'batch', 'tokens', 4]);
  g.op('ReduceMax', [seq], { axes: ints([2]), keepdims: int(1) }, { outputs: ['narrow'] });
  g.output('narrow', TensorDataType.FLOAT, ['batch', 'tokens', 1]);
};

const waveDescriptor = (model: string): EncoderDescriptor => ({
  name: 'wave-test',
  model,
  frontEnd: { kind: 'waveform', sampleRate: 16000 },
  window: { frames: 8, hop: 8 },
  input: { layout: 'B,S' },
  constants: { gain: { dtype: 'float32', shape: [1], value: 1 } },
  outputs: [
    { name: 'seq', layout: 'B,T,D' },
    { name: 'vec', layout: 'B,D' },
    { name: 'stack', layout: 'L,B,T,D' },
  ],
});

/** Column means of a [rows × 4] matrix. */
function columnMeans(values: number[]): number[] {
  const rows = values.length / 4;
  return [0, 1, 2, 3].map((d) => values.filter((_, i) => i % 4 === d).reduce((a, b) => a + b, 0) / rows);
}

describe('encoder embedder', () => {
  it('runs windows of a waveform encoder and pools each output per its layout', async () => {
    const model = await writeModel('wave', (g) => waveModel(g));
    const file = await writeDescriptor('wave', waveDescriptor('wave.onnx'));
    const embedder = await createEmbedder(
      { kind: 'encoder', descriptor: file },
      { threads: 1, device: 'cpu', frontEndFactory: factory(waveform) },
    );
    expect(path.isAbsolute(model)).toBe(true);
    expect(embedder.numLayers).toBe(4);
    expect(embedder.id).toMatch(/^encoder:[0-9a-f]{32}$/);
    expect(embedder.dim('temporal')).toBe(4);
    expect(() => embedder.dim('spectral')).toThrow(/pooling 'spectral' does not apply to output 'seq' of wave-test/);
    // 20 samples: windows [0, 8), [8, 16), [16, 20) padded to 24: six tokens of four.
    const clip = Float32Array.from({ length: 20 }, (_, i) => Math.sin(i * 0.7));
    const short = Float32Array.from({ length: 3 }, (_, i) => i + 1);
    const [seq, vec, second] = await embedder.embed([clip, short], {
      layers: [1, 2, 4],
      pooling: 'temporal',
      batchSize: 2,
    });
    const padded = [...clip, 0, 0, 0, 0];
    const expected = columnMeans(padded);
    for (let d = 0; d < 4; d++) {
      expect(seq![d]).toBeCloseTo(expected[d]!, 6);
      expect(vec![d]).toBeCloseTo(expected[d]!, 6); // equal tokens per window: the mean of window means
      expect(second![d]).toBeCloseTo(2 * expected[d]!, 6);
    }
    // A clip shorter than one window is padded to one window, never dropped.
    expect(Array.from(seq!.subarray(4))).toEqual([1 / 2, 2 / 2, 3 / 2, 0].map((v) => v));
    const [std] = await embedder.embed([clip], { layers: [1], pooling: 'spatial' });
    expect(std![0]).toBeCloseTo(expected[0]!, 6);
    await expect(embedder.embed([clip], { layers: [5], pooling: 'temporal' })).rejects.toThrow(/layers 1..4, got 5/);
    await embedder.dispose();
  });

  it('adds the population std with statistics mean+std', async () => {
    await writeModel('wave', (g) => waveModel(g));
    const file = await writeDescriptor('wave_std', { ...waveDescriptor('wave.onnx'), statistics: 'mean+std' });
    const embedder = await createEmbedder(
      { kind: 'encoder', descriptor: file },
      { threads: 1, device: 'cpu', frontEndFactory: factory(waveform) },
    );
    expect(embedder.dim('temporal')).toBe(8);
    expect(embedder.clipSamples).toBeUndefined(); // no length: the whole clip
    const clip = Float32Array.from({ length: 16 }, (_, i) => Math.cos(i * 1.3));
    const [out] = await embedder.embed([clip], { layers: [1], pooling: 'temporal' });
    const values = Array.from(clip);
    const means = columnMeans(values);
    const stds = columnMeans(values.map((v, i) => (v - means[i % 4]!) ** 2)).map(Math.sqrt);
    for (let d = 0; d < 4; d++) {
      expect(out![d]).toBeCloseTo(means[d]!, 6);
      expect(out![4 + d]).toBeCloseTo(stds[d]!, 6);
    }
    await embedder.dispose();
  });

  it('feeds a [T × F] front-end as B,1,F,T and pools a grid spectrally at a fixed length', async () => {
    // x [B, 1, 3, T] → grid [B, T, 3, 2]: channel 0 the feature, channel 1 its negation.
    await writeModel('grid', (g) => {
      const x = g.input('mel', TensorDataType.FLOAT, ['batch', 1, 3, 4]);
      const t = g.op('Transpose', [x], { perm: ints([0, 3, 2, 1]) });
      g.op('Concat', [t, g.op('Neg', [t])], { axis: int(3) }, { outputs: ['grid'] });
      g.output('grid', TensorDataType.FLOAT, ['batch', 4, 3, 2]);
    });
    const file = await writeDescriptor('grid', {
      name: 'grid-test',
      model: 'grid.onnx',
      frontEnd: { kind: 'waveform', sampleRate: 16000 },
      length: { frames: 6, mode: 'exact' },
      window: { frames: 4, hop: 2 },
      input: { layout: 'B,1,F,T' },
      outputs: [{ name: 'grid', layout: 'B,T,F,D' }],
    });
    const embedder = await createEmbedder(
      { kind: 'encoder', descriptor: file },
      { threads: 1, device: 'cpu', frontEndFactory: factory(threeBins) },
    );
    expect(embedder.dim('temporal')).toBe(6);
    // Windows [0, 4) and [2, 6) of the 6-frame clip: eight time tokens.
    expect(embedder.dim('spectral')).toBe(16);
    const clip = Float32Array.from({ length: 9 }, (_, i) => 0.1 * (i + 1)); // cut to 6 frames
    const [spectral] = await embedder.embed([clip], { layers: [1], pooling: 'spectral' });
    const frames = [0, 1, 2, 3, 2, 3, 4, 5];
    frames.forEach((frame, t) => {
      const mean = (clip[frame]! + 2 * clip[frame]! + frame) / 3;
      expect(spectral![t * 2]).toBeCloseTo(mean, 5);
      expect(spectral![t * 2 + 1]).toBeCloseTo(-mean, 5);
    });
    const [temporal] = await embedder.embed([clip], { layers: [1], pooling: 'temporal' });
    // Frequency-major: bin f's channels at f·2.
    expect(temporal![2 * 2]).toBeCloseTo(frames.reduce((a, b) => a + b, 0) / 8, 5);
    await embedder.dispose();
  });

  it('refuses what the model contradicts, before any clip', async () => {
    await writeModel('wave', (g) => waveModel(g));
    await writeModel('wave_int', (g) => waveModel(g, TensorDataType.INT64));
    await writeModel('wave_mask', (g) => waveModel(g, TensorDataType.FLOAT, true));
    const base = waveDescriptor('wave.onnx');
    const refused = async (name: string, descriptor: EncoderDescriptor, runner = waveform) =>
      createEmbedder(
        { kind: 'encoder', descriptor: await writeDescriptor(name, descriptor) },
        { threads: 1, device: 'cpu', frontEndFactory: factory(runner) },
      );
    await expect(refused('rank', { ...base, input: { layout: 'B,T,F' } })).rejects.toThrow(
      /input 'audio' is \[batch, samples\] \(rank 2\); input.layout 'B,T,F' has rank 3/,
    );
    await expect(refused('bins', base, threeBins)).rejects.toThrow(/has no F axis, but the front-end gives 3 bins/);
    await expect(refused('int', { ...base, model: 'wave_int.onnx' })).rejects.toThrow(
      /input 'audio' is int64; float32 is expected/,
    );
    await expect(refused('name', { ...base, outputs: [{ name: 'hidden', layout: 'B,T,D' }] })).rejects.toThrow(
      /no output 'hidden'; its outputs are seq, vec, stack, narrow/,
    );
    await expect(refused('outrank', { ...base, outputs: [{ name: 'seq', layout: 'B,D' }] })).rejects.toThrow(
      /output 'seq' is \[batch, tokens, 4\] \(rank 3\); outputs\[0\].layout 'B,D' has rank 2/,
    );
    await expect(
      refused('unfilled', { ...base, model: 'wave_mask.onnx', input: { name: 'audio', layout: 'B,S' } }),
    ).rejects.toThrow(/input 'mask' is neither input.name nor in constants/);
    await expect(refused('unnamed', { ...base, model: 'wave_mask.onnx' })).rejects.toThrow(
      /inputs without a constant are audio, mask; name the one the front-end feeds in input.name/,
    );
    await expect(
      refused('dtype', { ...base, constants: { gain: { dtype: 'int64', shape: [1], value: 1 } } }),
    ).rejects.toThrow(/constant 'gain' is int64; the model's input is float32/);
    await writeModel('fixed', (g) => {
      const x = g.input('audio', TensorDataType.FLOAT, ['batch', 16]);
      g.op('Identity', [x], {}, { outputs: ['out'] });
      g.output('out', TensorDataType.FLOAT, ['batch', 16]);
    });
    await expect(
      refused('fixed', {
        ...base,
        model: 'fixed.onnx',
        window: undefined,
        constants: undefined,
        outputs: [{ name: 'out', layout: 'B,D' }],
      }),
    ).rejects.toThrow(/takes 16 frames; give a window of 16 frames or length \{ mode: 'exact', frames: 16 \}/);
    await expect(
      refused('fixed8', {
        ...base,
        model: 'fixed.onnx',
        constants: undefined,
        outputs: [{ name: 'out', layout: 'B,D' }],
      }),
    ).rejects.toThrow(/takes 16 frames; the descriptor gives 8 per call/);
  });

  it('feeds int64 and int32 constants with the batch size where the shape says B', async () => {
    // seq = audio as [B, S/4, 4] × count[b] + shift: each constant changes the result.
    await writeModel('consts', (g) => {
      const x = g.input('audio', TensorDataType.FLOAT, ['batch', 'samples']);
      const count = g.input('count', TensorDataType.INT64, ['batch']);
      const shift = g.input('shift', TensorDataType.INT32, [1]);
      const float = (v: string) => g.op('Cast', [v], { to: int(TensorDataType.FLOAT) });
      const perClip = g.op('Unsqueeze', [float(count), g.int64Tensor('axes12', [1, 2])]);
      const shaped = g.op('Reshape', [x, g.int64Tensor('shape', [0, -1, 4])]);
      const scaled = g.op('Mul', [shaped, perClip]);
      g.op('Add', [scaled, float(shift)], {}, { outputs: ['seq'] });
      g.output('seq', TensorDataType.FLOAT, ['batch', 'tokens', 4]);
    });
    const file = await writeDescriptor('consts', {
      ...waveDescriptor('consts.onnx'),
      input: { name: 'audio', layout: 'B,S' },
      window: undefined,
      length: { on: 'waveform', frames: 16, mode: 'exact' },
      constants: {
        count: { dtype: 'int64', shape: ['B'], value: 3 },
        shift: { dtype: 'int32', shape: [1], value: 2 },
      },
      outputs: [{ name: 'seq', layout: 'B,T,D' }],
    });
    const embedder = await createEmbedder(
      { kind: 'encoder', descriptor: file },
      { threads: 1, device: 'cpu', frontEndFactory: factory(waveform) },
    );
    // An exact length on the waveform: only its samples (and a margin for the resampler) are read.
    expect(embedder.clipSamples).toBe(16 + 256);
    const clip = Float32Array.from({ length: 16 }, (_, i) => i / 16);
    const long = Float32Array.from({ length: 40 }, (_, i) => (i < 16 ? i / 16 : 100));
    const [out] = await embedder.embed([clip, long], { layers: [1], pooling: 'temporal', batchSize: 2 });
    const means = columnMeans(Array.from(clip));
    for (let d = 0; d < 4; d++) expect(out![d]).toBeCloseTo(3 * means[d]! + 2, 5);
    expect(Array.from(out!.subarray(4))).toEqual(Array.from(out!.subarray(0, 4))); // cut to 16 samples
    await embedder.dispose();
  });

  it('refuses layers that pool to different widths', async () => {
    await writeModel('wave', (g) => waveModel(g));
    const file = await writeDescriptor('widths', {
      ...waveDescriptor('wave.onnx'),
      outputs: [
        { name: 'seq', layout: 'B,T,D' },
        { name: 'narrow', layout: 'B,T,D' },
      ],
    });
    const embedder = await createEmbedder(
      { kind: 'encoder', descriptor: file },
      { threads: 1, device: 'cpu', frontEndFactory: factory(waveform) },
    );
    expect(() => embedder.dim('temporal')).toThrow(
      /outputs pool to different widths with 'temporal' \(seq: 4, narrow: 1\)/,
    );
    await embedder.dispose();
  });

  it('changes its id with the descriptor content, not its formatting or folder', async () => {
    await writeModel('wave', (g) => waveModel(g));
    const id = async (name: string, descriptor: EncoderDescriptor, spaces = 2) => {
      const file = path.join(dir, `${name}.encoder.json`);
      await fsp.writeFile(file, JSON.stringify(descriptor, null, spaces));
      const embedder = await createEmbedder(
        { kind: 'encoder', descriptor: file },
        { threads: 1, device: 'cpu', frontEndFactory: factory(waveform) },
      );
      await embedder.dispose();
      return embedder.id;
    };
    const base = waveDescriptor('wave.onnx');
    const first = await id('id_a', base);
    const { name, ...rest } = base;
    expect(await id('id_b', { ...rest, name }, 0)).toBe(first);
    expect(await id('id_c', { ...base, window: { frames: 8, hop: 4 } })).not.toBe(first);
    expect(await id('id_d', { ...base, statistics: 'mean+std' })).not.toBe(first);
    await writeModel('wave2', (g) => {
      waveModel(g);
      g.floatTensor('unused', new Float32Array([1]), [1]);
    });
    expect(await id('id_e', { ...base, model: 'wave2.onnx' })).not.toBe(first);
  });
});

import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmbedder } from '../../worker/src/embedders';
import { readHuggingFaceFolder } from '../../worker/src/encoders/huggingFaceFolder';
import type { FrontEndRunner } from '../../worker/src/encoders/frontEnd';
import { resolveModel } from '../../worker/src/models/resolve';
import { GraphBuilder, int, ints } from '../../worker/src/onnx/graphBuilder';
import { TensorDataType } from '../../worker/src/onnx/proto';

let dir: string;
beforeAll(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'genrep-hf-'));
});
afterAll(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

/** An export folder whose model maps input [B, …] to last_hidden_state and hidden_states.0..2 [B, T, 2]. */
async function writeExport(
  name: string,
  pre: Record<string, unknown>,
  input = 'input_values',
  rank = 2,
): Promise<string> {
  const folder = path.join(dir, name);
  await fsp.mkdir(path.join(folder, 'onnx'), { recursive: true });
  await fsp.writeFile(path.join(folder, 'preprocessor_config.json'), JSON.stringify(pre));
  await fsp.writeFile(path.join(folder, 'config.json'), JSON.stringify({ model_type: 'wav2vec2' }));
  const g = new GraphBuilder(name);
  const x = g.input(input, TensorDataType.FLOAT, ['batch', ...Array.from({ length: rank - 1 }, (_, i) => `d${i}`)]);
  const flat = g.op('Reshape', [x, g.int64Tensor('shape', [0, -1, 2])]);
  for (let n = 0; n < 3; n++) g.op('Mul', [flat, g.scalar(`k${n}`, n + 1)], {}, { outputs: [`hidden_states.${n}`] });
  g.op('ReduceMax', [flat], { axes: ints([2]), keepdims: int(1) }, { outputs: ['unused'] });
  g.op('Identity', [flat], {}, { outputs: ['last_hidden_state'] });
  for (const out of ['last_hidden_state', 'hidden_states.0', 'hidden_states.1', 'hidden_states.2'])
    g.output(out, TensorDataType.FLOAT, ['batch', 'tokens', 2]);
  g.output('unused', TensorDataType.FLOAT, ['batch', 'tokens', 1]);
  await fsp.writeFile(
    path.join(folder, 'onnx', 'model.onnx'),
    g.encode({ opsets: [{ domain: '', version: 17 }], producerVersion: 'test' }),
  );
  return folder;
}

const waveform: FrontEndRunner = {
  sampleRate: 16000,
  bins: 1,
  toModelRate: (clip) => clip,
  features: (w) => Promise.resolve({ data: w, frames: w.length, bins: 1 }),
  finish: (o) => o,
  dispose: () => Promise.resolve(),
};

describe('Hugging Face export folders', () => {
  it('maps Wav2Vec2FeatureExtractor and the hidden_states outputs, and runs as a --model folder', async () => {
    const folder = await writeExport('w2v', {
      feature_extractor_type: 'Wav2Vec2FeatureExtractor',
      feature_size: 1,
      sampling_rate: 16000,
      do_normalize: false,
    });
    const descriptor = await readHuggingFaceFolder(folder);
    expect(descriptor).toEqual({
      name: 'w2v',
      family: 'wav2vec2',
      model: 'onnx/model.onnx',
      frontEnd: { kind: 'waveform', sampleRate: 16000, normalize: false },
      input: { name: 'input_values', layout: 'B,S' },
      outputs: [{ names: 'hidden_states.{n}', from: 0, count: 3, layout: 'B,T,D' }],
    });
    expect(resolveModel(folder, undefined)).toEqual({ kind: 'encoder', descriptor: folder });
    let asked: unknown;
    const embedder = await createEmbedder(folder, {
      threads: 1,
      device: 'cpu',
      frontEndFactory: (frontEnd) => {
        asked = frontEnd;
        return Promise.resolve(waveform);
      },
    });
    expect(asked).toEqual(descriptor.frontEnd);
    expect(embedder.numLayers).toBe(3);
    const [l3] = await embedder.embed([Float32Array.from([1, 2, 3, 4, 5, 6])], { layers: [3], pooling: 'temporal' });
    expect(Array.from(l3!)).toEqual([9, 12]); // 3 × the means of (1, 3, 5) and (2, 4, 6)
    await embedder.dispose();
  });

  it('maps ASTFeatureExtractor and WhisperFeatureExtractor fields to the front-end and length', async () => {
    const ast = await readHuggingFaceFolder(
      await writeExport(
        'ast',
        {
          feature_extractor_type: 'ASTFeatureExtractor',
          num_mel_bins: 128,
          max_length: 1024,
          mean: -4.2677393,
          std: 4.5689974,
          do_normalize: true,
          sampling_rate: 16000,
        },
        'input_values',
        3,
      ),
    );
    expect(ast.frontEnd).toEqual({
      kind: 'kaldi-fbank',
      sampleRate: 16000,
      options: {
        htk_compat: true,
        sample_frequency: 16000,
        use_energy: false,
        window_type: 'hanning',
        num_mel_bins: 128,
        dither: 0,
        frame_shift: 10,
      },
      astNormalize: { mean: -4.2677393, std: 4.5689974 },
    });
    expect(ast.length).toEqual({ frames: 1024, mode: 'exact', padValue: 0 });
    expect(ast.input).toEqual({ name: 'input_values', layout: 'B,T,F' });
    const whisper = await readHuggingFaceFolder(
      await writeExport(
        'whisper',
        {
          feature_extractor_type: 'WhisperFeatureExtractor',
          feature_size: 128,
          hop_length: 160,
          n_fft: 400,
          chunk_length: 30,
          sampling_rate: 16000,
        },
        'input_features',
        3,
      ),
    );
    expect(whisper.frontEnd).toMatchObject({
      kind: 'log-mel',
      n_mels: 128,
      n_fft: 400,
      hop_length: 160,
      whisper: true,
      mel_scale: 'slaney',
    });
    expect(whisper.length).toEqual({ on: 'waveform', frames: 480000, mode: 'exact' });
    expect(whisper.input).toEqual({ name: 'input_features', layout: 'B,F,T' });
  });

  it('says which field or type it does not understand', async () => {
    await expect(
      readHuggingFaceFolder(await writeExport('clap', { feature_extractor_type: 'ClapFeatureExtractor' })),
    ).rejects.toThrow(/preprocessor_config.json: feature_extractor_type "ClapFeatureExtractor" is not understood/);
    await expect(
      readHuggingFaceFolder(
        await writeExport('ast_bad', { feature_extractor_type: 'ASTFeatureExtractor', num_mel_bins: '128' }),
      ),
    ).rejects.toThrow(/num_mel_bins: expected a number, found "128"/);
    await expect(
      readHuggingFaceFolder(
        await writeExport('w2v_bins', { feature_extractor_type: 'Wav2Vec2FeatureExtractor', feature_size: 2 }),
      ),
    ).rejects.toThrow(/feature_size: 2 is not understood/);
  });
});

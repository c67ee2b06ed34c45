import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { GraphBuilder, int, ints } from '../../worker/src/onnx/graphBuilder';
import { TensorDataType } from '../../worker/src/onnx/proto';
import {
  ENCODER_FAMILIES,
  type EncoderDescriptor,
  type EncoderFamily,
} from '../../worker/src/protocol/encoderDescriptor';

/**
 * Random-weight stand-ins for the shipped encoder families (models/encoders/): each has its family's exact input and
 * output names, ranks and layouts (the input sizes the descriptors check are kept: AST [B, 1024, 128], Whisper
 * [B, 80, 3000], CLAP [B, 1, 1001, 64], the speech embedding's [B, 76, 32, 1]), tiny feature sizes (D = 8 by default),
 * and outputs made of Reshape / Transpose / MatMul / ReduceMean only, so `reference` computes them directly in JS.
 *
 * Stand-in time axes (not the real models'): waveform encoders (wav2vec2 / HuBERT / WavLM, PANNs) cut the waveform
 * into frames of 320 samples (the input length must be a multiple of 320); Whisper pairs frames (3000 → 1500); the
 * speech embedding's mel front-end cuts frames of 160 samples (a multiple of 160).
 */

export type StandInFamily = Exclude<EncoderFamily, 'custom'>;

export const STAND_IN_FAMILIES: readonly StandInFamily[] = ENCODER_FAMILIES.filter(
  (family): family is StandInFamily => family !== 'custom',
);

export interface Weight {
  data: Float32Array;
  /** [rows, cols]: outputs are rows of the input frame times this matrix. */
  dims: [number, number];
}

export interface FamilyModel {
  family: StandInFamily;
  /** The encoder ONNX. */
  model: Uint8Array;
  /** speech-embedding only: the mel front-end ONNX (melspectrogram.onnx's layout). */
  frontEnd?: Uint8Array;
  /** Every weight by its initializer name ('w1' … for layers, 'head', 'mel'). */
  weights: Record<string, Weight>;
  dim: number;
}

export interface FamilyModelOptions {
  /** Feature channels D (default 8). */
  dim?: number;
  /**
   * Width of the classifier / projection heads (PANNs clipwise_output, EfficientAT logits, CLAP audio_embeds; default
   * D + 3): never D, as in the real models (527 classes after 2048 / 960 channels, 512 after 768), so that a
   * descriptor listing a head beside its embedding meets the widths it would meet in the real model.
   */
  heads?: number;
  seed?: number;
}

/** Deterministic uniform weights in [-0.5, 0.5) (mulberry32), scaled by 1/√rows so outputs stay O(1). */
function randomWeight(rows: number, cols: number, seed: number): Weight {
  let a = seed >>> 0;
  const data = new Float32Array(rows * cols);
  const scale = 1 / Math.sqrt(rows);
  // i < rows · cols = data.length.
  for (let i = 0; i < data.length; i += 1) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    data[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5) * scale;
  }
  return { data, dims: [rows, cols] };
}

const HIDDEN_LAYERS = 12;
const OPSETS = [{ domain: '', version: 17 }];
const FLOAT = TensorDataType.FLOAT;

/** [0, -1, k]: keep the batch (Reshape's 0 copies the input's size), frames of k values. */
function frames(g: GraphBuilder, x: string, k: number): string {
  return g.op('Reshape', [x, g.int64Tensor(g.fresh('shape'), [0, -1, k])]);
}

export function buildFamilyModel(family: StandInFamily, options: FamilyModelOptions = {}): FamilyModel {
  const dim = options.dim ?? 8;
  const seed = options.seed ?? 12;
  const heads = options.heads ?? dim + 3;
  const weights: Record<string, Weight> = {};
  const weight = (g: GraphBuilder, name: string, rows: number, cols: number): string => {
    const w = randomWeight(rows, cols, seed * 1000 + Object.keys(weights).length + 1);
    weights[name] = w;
    return g.floatTensor(name, w.data, w.dims);
  };
  const g = new GraphBuilder(`${family}-stand-in`);
  const encode = (graph: GraphBuilder): Uint8Array =>
    graph.encode({ opsets: OPSETS, producerVersion: 'test stand-in' });
  /** hidden_states.0 … hidden_states.12 [B, T, D] from frames [B, T, k], and last_hidden_state = the last one. */
  const hiddenStates = (rows: string, k: number): void => {
    let last = '';
    for (let n = 0; n <= HIDDEN_LAYERS; n += 1) {
      last = g.op('MatMul', [rows, weight(g, `w${n}`, k, dim)], {}, { outputs: [`hidden_states.${n}`] });
      g.output(last, FLOAT, ['batch_size', 'sequence_length', dim]);
    }
    g.op('Identity', [last], {}, { outputs: ['last_hidden_state'] });
    g.output('last_hidden_state', FLOAT, ['batch_size', 'sequence_length', dim]);
  };

  switch (family) {
    case 'ast': {
      const x = g.input('input_values', FLOAT, ['batch_size', 1024, 128]);
      hiddenStates(x, 128);
      return { family, model: encode(g), weights, dim };
    }
    case 'wav2vec2':
    case 'hubert':
    case 'wavlm': {
      const x = g.input('input_values', FLOAT, ['batch_size', 'sequence_length']);
      hiddenStates(frames(g, x, 320), 320);
      return { family, model: encode(g), weights, dim };
    }
    case 'whisper': {
      const x = g.input('input_features', FLOAT, ['batch_size', 80, 3000]);
      const t = g.op('Transpose', [x], { perm: ints([0, 2, 1]) });
      g.op('MatMul', [frames(g, t, 160), weight(g, 'w1', 160, dim)], {}, { outputs: ['last_hidden_state'] });
      g.output('last_hidden_state', FLOAT, ['batch_size', 1500, dim]);
      return { family, model: encode(g), weights, dim };
    }
    case 'clap': {
      const x = g.input('input_features', FLOAT, ['batch_size', 1, 1001, 64]);
      // [B, 1001, 8, 8]: 8 frequency groups of 8 bins, then [B, T, F, D] → [B, D, F, T] as HTS-AT's grid.
      const grid = g.op('Reshape', [x, g.int64Tensor('grid_shape', [0, 1001, 8, 8])]);
      const btfd = g.op('MatMul', [grid, weight(g, 'w1', 8, dim)]);
      g.op('Transpose', [btfd], { perm: ints([0, 3, 2, 1]) }, { outputs: ['last_hidden_state'] });
      g.output('last_hidden_state', FLOAT, ['batch_size', dim, 8, 1001]);
      const pooled = g.op('ReduceMean', ['last_hidden_state'], { axes: ints([2, 3]), keepdims: int(0) });
      g.op('MatMul', [pooled, weight(g, 'head', dim, heads)], {}, { outputs: ['audio_embeds'] });
      g.output('audio_embeds', FLOAT, ['batch_size', heads]);
      return { family, model: encode(g), weights, dim };
    }
    case 'panns': {
      const x = g.input('waveform', FLOAT, ['batch_size', 'samples']);
      const h = g.op('MatMul', [frames(g, x, 320), weight(g, 'w1', 320, dim)]);
      g.op('ReduceMean', [h], { axes: ints([1]), keepdims: int(0) }, { outputs: ['embedding'] });
      g.output('embedding', FLOAT, ['batch_size', dim]);
      const logits = g.op('MatMul', ['embedding', weight(g, 'head', dim, heads)]);
      g.op('Sigmoid', [logits], {}, { outputs: ['clipwise_output'] });
      g.output('clipwise_output', FLOAT, ['batch_size', heads]);
      return { family, model: encode(g), weights, dim };
    }
    case 'efficientat': {
      const x = g.input('mel', FLOAT, ['batch_size', 1, 128, 'frames']);
      const mean = g.op('ReduceMean', [x], { axes: ints([1, 3]), keepdims: int(0) });
      g.op('MatMul', [mean, weight(g, 'w1', 128, dim)], {}, { outputs: ['embedding'] });
      g.output('embedding', FLOAT, ['batch_size', dim]);
      g.op('MatMul', ['embedding', weight(g, 'head', dim, heads)], {}, { outputs: ['logits'] });
      g.output('logits', FLOAT, ['batch_size', heads]);
      return { family, model: encode(g), weights, dim };
    }
    case 'speech-embedding': {
      const x = g.input('input_1', FLOAT, ['unk__0', 76, 32, 1]);
      const flat = g.op('Reshape', [x, g.int64Tensor('flat_shape', [0, 76 * 32])]);
      const e = g.op('MatMul', [flat, weight(g, 'w1', 76 * 32, dim)]);
      g.op('Reshape', [e, g.int64Tensor('out_shape', [0, 1, 1, dim])], {}, { outputs: ['conv2d_19'] });
      g.output('conv2d_19', FLOAT, ['unk__1', 1, 1, dim]);
      const fe = new GraphBuilder('melspectrogram-stand-in');
      const audio = fe.input('input', FLOAT, ['batch_size', 'samples']);
      const melW = randomWeight(160, 32, seed * 1000 + 999);
      weights['mel'] = melW;
      const mel = fe.op('MatMul', [frames(fe, audio, 160), fe.floatTensor('mel', melW.data, melW.dims)]);
      fe.op('Unsqueeze', [mel, fe.int64Tensor('axis1', [1])], {}, { outputs: ['output'] });
      fe.output('output', FLOAT, ['batch_size', 1, 'frames', 32]);
      return { family, model: encode(g), frontEnd: encode(fe), weights, dim };
    }
  }
}

/** Writes a stand-in where a descriptor looks for its files (`model`, and an ONNX front-end's `model`), under `dir`. */
export function writeFamilyModel(dir: string, descriptor: EncoderDescriptor, built: FamilyModel): void {
  const put = (relative: string, bytes: Uint8Array): void => {
    const file = path.join(dir, relative);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, bytes);
  };
  put(descriptor.model, built.model);
  if (descriptor.frontEnd.kind === 'onnx') {
    if (!built.frontEnd) throw new Error(`${built.family} stand-in has no front-end model`);
    put(descriptor.frontEnd.model, built.frontEnd);
  }
}

/** rows [n × k] times a weight [k × cols] → [n × cols]. */
export function matmul(rows: Float32Array, n: number, w: Weight): Float32Array {
  const [k, cols] = w.dims;
  const out = new Float32Array(n * cols);
  for (let r = 0; r < n; r += 1)
    for (let c = 0; c < cols; c += 1) {
      let sum = 0;
      // i < k, so r·k + i < n·k = rows.length and i·cols + c < k·cols = w.data.length.
      for (let i = 0; i < k; i += 1) sum += rows[r * k + i]! * w.data[i * cols + c]!;
      out[r * cols + c] = sum;
    }
  return out;
}

/** Mean over rows of a [n × d] matrix. */
export function meanRows(m: Float32Array, n: number, d: number): Float32Array {
  const out = new Float32Array(d);
  // r·d + c < n·d = m.length.
  for (let r = 0; r < n; r += 1) for (let c = 0; c < d; c += 1) out[c]! += m[r * d + c]! / n;
  return out;
}

function weightOf(model: FamilyModel, name: string): Weight {
  const w = model.weights[name];
  if (!w) throw new Error(`${model.family} stand-in has no weight '${name}'`);
  return w;
}

/**
 * One clip's outputs computed directly (batch 1), by output name, as row-major arrays of the ONNX output's shape
 * without the batch axis. `input` is what the encoder input gets for that clip (row-major, its shape without B); for
 * the speech embedding it is one [76 × 32] window.
 */
export function reference(model: FamilyModel, input: Float32Array): Record<string, Float32Array> {
  const d = model.dim;
  const w = (name: string): Weight => weightOf(model, name);
  switch (model.family) {
    case 'ast':
    case 'wav2vec2':
    case 'hubert':
    case 'wavlm': {
      const k = model.family === 'ast' ? 128 : 320;
      const n = input.length / k;
      const out: Record<string, Float32Array> = {};
      for (let layer = 0; layer <= HIDDEN_LAYERS; layer += 1)
        out[`hidden_states.${layer}`] = matmul(input, n, w(`w${layer}`));
      out['last_hidden_state'] = out[`hidden_states.${HIDDEN_LAYERS}`]!;
      return out;
    }
    case 'whisper': {
      // [80 × 3000] → [3000 × 80] → pairs of frames [1500 × 160].
      const t = new Float32Array(input.length);
      // f < 80, j < 3000: both indices < 240000 = input.length.
      for (let f = 0; f < 80; f += 1) for (let j = 0; j < 3000; j += 1) t[j * 80 + f] = input[f * 3000 + j]!;
      return { last_hidden_state: matmul(t, 1500, w('w1')) };
    }
    case 'clap': {
      const btfd = matmul(input, 1001 * 8, w('w1')); // [1001, 8, D]
      const grid = new Float32Array(btfd.length); // [D, 8, 1001]
      // t < 1001, f < 8, c < d: indices < 1001·8·d = btfd.length.
      for (let t = 0; t < 1001; t += 1)
        for (let f = 0; f < 8; f += 1)
          for (let c = 0; c < d; c += 1) grid[(c * 8 + f) * 1001 + t] = btfd[(t * 8 + f) * d + c]!;
      const pooled = meanRows(btfd, 1001 * 8, d);
      return { last_hidden_state: grid, audio_embeds: matmul(pooled, 1, w('head')) };
    }
    case 'panns': {
      const h = matmul(input, input.length / 320, w('w1'));
      const embedding = meanRows(h, input.length / 320, d);
      const logits = matmul(embedding, 1, w('head'));
      return { embedding, clipwise_output: logits.map((v) => 1 / (1 + Math.exp(-v))) };
    }
    case 'efficientat': {
      const frameCount = input.length / 128;
      const mean = new Float32Array(128);
      // m < 128, j < frameCount: m·frameCount + j < input.length.
      for (let m = 0; m < 128; m += 1)
        for (let j = 0; j < frameCount; j += 1) mean[m]! += input[m * frameCount + j]! / frameCount;
      const embedding = matmul(mean, 1, w('w1'));
      return { embedding, logits: matmul(embedding, 1, w('head')) };
    }
    case 'speech-embedding':
      return { conv2d_19: matmul(input, 1, w('w1')) };
  }
}

/** The speech embedding's mel front-end stand-in for one clip (int16-scale samples) → [frames × 32]. */
export function referenceMel(model: FamilyModel, samples: Float32Array): Float32Array {
  return matmul(samples, samples.length / 160, weightOf(model, 'mel'));
}

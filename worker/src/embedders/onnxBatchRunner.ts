import { fileError, GenrepError } from '../errors';
import { ort } from '../onnx/runtime';
import { checkBatchSize, forEachBatch } from './batching';
import type { EmbedOptions } from './types';

/** One ONNX model's single input and the outputs wanted from it, as every ONNX embedder feeds it clips. */
export interface OnnxBatchPlan {
  session: ort.InferenceSession;
  /** The model file, which errors name. */
  model: string;
  inputName: string;
  /** One clip's input shape, after the batch dimension. */
  clipShape: readonly number[];
  /**
   * One clip's input, flattened: at most the product of `clipShape` floats, the rest of its row left at zero (a
   * short waveform is zero-padded so).
   */
  clipInput: (clip: Float32Array) => Float32Array;
  /** Output names to fetch (distinct), and each one's floats per clip. */
  outputs: ReadonlyArray<{ name: string; dim: number }>;
  /** A model with a fixed batch dimension gets exactly this many rows a run; the unused ones are silence, dropped. */
  fixedBatch?: number | undefined;
  /** Clips per run when the caller does not say. */
  defaultBatchSize: number;
  /**
   * Whose fault a wrong-size output is: INTERNAL for a graph this project wrote, BAD_INPUT for a model the user
   * brought.
   */
  faultCode: 'INTERNAL' | 'BAD_INPUT';
}

/**
 * Runs clips through the model in batches: each clip's input into one float32 tensor, one run, and each output's
 * rows copied to its [clips × dim] matrix (returned in the order of `plan.outputs`). Every output's shape is
 * checked before it is copied, so a model that returns something else fails naming itself and the output instead
 * of scattering the wrong floats.
 */
export async function runOnnxBatches(
  clips: readonly Float32Array[],
  plan: OnnxBatchPlan,
  options: Pick<EmbedOptions, 'signal' | 'onProgress' | 'batchSize' | 'stageTimes'>,
): Promise<Float32Array[]> {
  const perClip = plan.clipShape.reduce((a, b) => a * b, 1);
  const matrices = plan.outputs.map(({ dim }) => new Float32Array(clips.length * dim));
  const fetches = plan.outputs.map(({ name }) => name);
  const batchSize = plan.fixedBatch ?? checkBatchSize(options.batchSize, plan.defaultBatchSize);
  await forEachBatch(clips.length, batchSize, options, async (start, end) => {
    const count = end - start;
    const rows = plan.fixedBatch ?? count;
    const input = new Float32Array(rows * perClip);
    const frontEndStarted = performance.now();
    // start + i < end ≤ clips.length.
    for (let i = 0; i < count; i++) {
      const row = plan.clipInput(clips[start + i]!);
      if (row.length > perClip) {
        throw new GenrepError(
          `${plan.model}: a clip's input has ${row.length} floats, more than [${plan.clipShape.join(', ')}] holds`,
          'INTERNAL',
        );
      }
      input.set(row, i * perClip);
    }
    options.stageTimes?.add('frontEnd', performance.now() - frontEndStarted, count);
    const tensor = new ort.Tensor('float32', input, [rows, ...plan.clipShape]);
    const encoderStarted = performance.now();
    const result = await plan.session.run({ [plan.inputName]: tensor }, fetches);
    options.stageTimes?.add('encoder', performance.now() - encoderStarted, count);
    try {
      plan.outputs.forEach(({ name, dim }, k) => {
        const value = result[name];
        if (value === undefined) throw fault(plan, `ONNX Runtime returned no output '${name}'`);
        if (value.type !== 'float32') throw fault(plan, `output '${name}' is ${value.type}; float32 is expected`);
        if (value.dims[0] !== rows || value.data.length !== rows * dim) {
          throw fault(
            plan,
            `output '${name}' has shape [${value.dims.join(', ')}] (${value.data.length} values) for a batch of ` +
              `${rows}; expected [${rows}, ${dim}]`,
          );
        }
        const data = (value.data as Float32Array).subarray(0, count * dim);
        // k < plan.outputs.length = matrices.length: one matrix per output.
        matrices[k]!.set(data, start * dim);
      });
    } finally {
      for (const value of Object.values(result)) value.dispose();
    }
  });
  return matrices;
}

function fault(plan: OnnxBatchPlan, problem: string): GenrepError {
  return fileError(plan.model, problem, plan.faultCode, { field: 'output' });
}

/**
 * One matrix per requested layer, in the order asked, from the matrices of the distinct layers; a layer asked for
 * twice gets its own copy, so a caller may change one without the other.
 */
export function perRequestedLayer(
  layers: readonly number[],
  byLayer: ReadonlyMap<number, Float32Array>,
): Float32Array[] {
  const handedOut = new Set<number>();
  return layers.map((layer) => {
    const matrix = byLayer.get(layer);
    if (matrix === undefined) throw new GenrepError(`no features were computed for layer ${layer}`, 'INTERNAL');
    if (handedOut.has(layer)) return matrix.slice();
    handedOut.add(layer);
    return matrix;
  });
}

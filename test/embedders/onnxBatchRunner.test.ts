import { describe, expect, it } from 'vitest';
import { perRequestedLayer, runOnnxBatches, type OnnxBatchPlan } from '../../worker/src/embedders/onnxBatchRunner';
import { ort } from '../../worker/src/onnx/runtime';
import { genrepRejection as failure } from '../helpers/errors';

type Feeds = Record<string, ort.Tensor>;

/** A stand-in session: `respond` sees each run's input tensor and returns the outputs. */
function fakeSession(respond: (input: ort.Tensor, fetches: readonly string[]) => Record<string, ort.Tensor>) {
  const runs: Array<{ dims: readonly number[]; data: Float32Array }> = [];
  const session = {
    run: (feeds: Feeds, fetches: readonly string[]) => {
      const input = feeds['x'];
      if (input === undefined) throw new Error('no input x');
      runs.push({ dims: input.dims, data: Float32Array.from(input.data as Float32Array) });
      return Promise.resolve(respond(input, fetches));
    },
  } as unknown as ort.InferenceSession;
  return { session, runs };
}

/** Row sums and row maxima of a [rows, 3] input: 1 float per clip each. */
const sumAndMax = (input: ort.Tensor): Record<string, ort.Tensor> => {
  const data = input.data as Float32Array;
  const rows = input.dims[0] ?? 0;
  const sum = new Float32Array(rows);
  const max = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const row = data.subarray(r * 3, r * 3 + 3);
    sum[r] = row.reduce((a, b) => a + b, 0);
    max[r] = Math.max(...row);
  }
  return { sum: new ort.Tensor('float32', sum, [rows, 1]), max: new ort.Tensor('float32', max, [rows, 1]) };
};

function plan(session: ort.InferenceSession, extra: Partial<OnnxBatchPlan> = {}): OnnxBatchPlan {
  return {
    session,
    model: '/models/m.onnx',
    inputName: 'x',
    clipShape: [3],
    clipInput: (clip) => clip.subarray(0, 3),
    outputs: [
      { name: 'sum', dim: 1 },
      { name: 'max', dim: 1 },
    ],
    defaultBatchSize: 2,
    faultCode: 'INTERNAL',
    ...extra,
  };
}

const clips = [Float32Array.of(1, 2, 3, 99), Float32Array.of(4), Float32Array.of(-1, -2, -3)];

describe('ONNX batch runner', () => {
  it('feeds clips cut or zero-padded, in batches, and scatters each output to its matrix', async () => {
    const { session, runs } = fakeSession(sumAndMax);
    const progress: number[] = [];
    const [sum, max] = await runOnnxBatches(clips, plan(session), { onProgress: (done) => progress.push(done) });
    expect(runs.map((r) => [...r.dims])).toEqual([
      [2, 3],
      [1, 3],
    ]);
    expect(Array.from(runs[0]!.data)).toEqual([1, 2, 3, 4, 0, 0]);
    expect(Array.from(sum!)).toEqual([6, 4, -6]);
    expect(Array.from(max!)).toEqual([3, 4, -1]);
    expect(progress).toEqual([2, 3]);
  });

  it('fills a fixed batch with silence and drops those rows', async () => {
    const { session, runs } = fakeSession(sumAndMax);
    const [sum] = await runOnnxBatches(clips, plan(session, { fixedBatch: 4 }), { batchSize: 1 });
    expect(runs.map((r) => [...r.dims])).toEqual([[4, 3]]);
    expect(Array.from(sum!)).toEqual([6, 4, -6]);
  });

  it('refuses an output of the wrong size, naming the model and the output', async () => {
    const { session } = fakeSession((input) => ({
      ...sumAndMax(input),
      max: new ort.Tensor('float32', new Float32Array(3), [1, 3]),
    }));
    const err = await failure(runOnnxBatches(clips, plan(session), {}));
    expect(err.code).toBe('INTERNAL');
    expect(err.message).toBe(
      "/models/m.onnx: output 'max' has shape [1, 3] (3 values) for a batch of 2; expected [2, 1]",
    );
    expect(err.data).toEqual({ file: '/models/m.onnx', field: 'output' });
  });

  it('refuses a missing or non-float32 output with the plan’s fault code', async () => {
    const missing = fakeSession((input) => ({ sum: sumAndMax(input)['sum']! }));
    const noMax = await failure(runOnnxBatches(clips, plan(missing.session, { faultCode: 'BAD_INPUT' }), {}));
    expect(noMax.code).toBe('BAD_INPUT');
    expect(noMax.message).toBe("/models/m.onnx: ONNX Runtime returned no output 'max'");
    const ints = fakeSession((input) => ({
      ...sumAndMax(input),
      sum: new ort.Tensor('int32', new Int32Array(2), [2, 1]),
    }));
    const notFloat = await failure(runOnnxBatches(clips, plan(ints.session), {}));
    expect(notFloat.message).toBe("/models/m.onnx: output 'sum' is int32; float32 is expected");
  });

  it('refuses a bad batch size and a clip input longer than the input holds', async () => {
    const { session } = fakeSession(sumAndMax);
    expect((await failure(runOnnxBatches(clips, plan(session), { batchSize: 0 }))).code).toBe('BAD_INPUT');
    const long = await failure(runOnnxBatches(clips, plan(session, { clipInput: (clip) => clip }), {}));
    expect(long.code).toBe('INTERNAL');
    expect(long.message).toContain('more than [3] holds');
  });

  it('hands each requested layer its own matrix, copying a layer asked for twice', () => {
    const one = Float32Array.of(1, 2);
    const two = Float32Array.of(3, 4);
    const out = perRequestedLayer(
      [2, 1, 2],
      new Map([
        [1, one],
        [2, two],
      ]),
    );
    expect(out[0]).toBe(two);
    expect(out[1]).toBe(one);
    expect(out[2]).not.toBe(two);
    expect(Array.from(out[2]!)).toEqual([3, 4]);
    expect(() => perRequestedLayer([3], new Map([[1, one]]))).toThrow(/no features were computed for layer 3/);
  });
});

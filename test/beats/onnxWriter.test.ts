import { describe, expect, it } from 'vitest';
import { float, GraphBuilder, int, ints } from '../../worker/src/onnx/graphBuilder';
import { decodeModel, encodeModel, encodeModelParts, TensorDataType } from '../../worker/src/onnx/proto';
import { openSession, ort } from '../../worker/src/onnx/runtime';

const opsets = [{ domain: '', version: 17 }];

/** y = LayerNorm(x · W + b) with a known W, so the runtime result can be checked by hand. */
function smallModel(): GraphBuilder {
  const g = new GraphBuilder('small');
  const x = g.input('x', TensorDataType.FLOAT, ['batch', 3]);
  const w = g.floatTensor('w', Float32Array.of(1, 0, 0, 1, 1, 1), [3, 2]);
  const b = g.floatTensor('b', Float32Array.of(0.5, -0.5), [2]);
  const y = g.op('Add', [g.op('MatMul', [x, w]), b]);
  const ln = g.op(
    'LayerNormalization',
    [y, g.floatTensor('gamma', Float32Array.of(1, 1), [2]), g.floatTensor('beta', Float32Array.of(0, 0), [2])],
    {
      axis: int(-1),
      epsilon: float(1e-5),
    },
  );
  g.op('Reshape', [ln, g.int64Tensor('shape', [0, -1])], {}, { outputs: ['y'] });
  g.output('y', TensorDataType.FLOAT, ['batch', 2]);
  return g;
}

describe('ONNX ModelProto writer', () => {
  it('encodes a graph that protobuf decodes back field for field', () => {
    const model = smallModel().toModel({ opsets, producerVersion: 't', metadata: { a: 'b' } });
    const decoded = decodeModel(encodeModel(model)) as {
      ir_version: number;
      opset_import: Array<{ version: number }>;
      metadata_props: Array<{ key: string; value: string }>;
      graph: {
        node: Array<{ op_type: string }>;
        initializer: Array<{ name: string; dims: number[]; raw_data: Uint8Array }>;
        input: unknown[];
      };
    };
    expect(decoded.ir_version).toBe(8);
    expect(decoded.opset_import[0]!.version).toBe(17);
    expect(decoded.metadata_props).toEqual([{ key: 'a', value: 'b' }]);
    expect(decoded.graph.node.map((n) => n.op_type)).toEqual(['MatMul', 'Add', 'LayerNormalization', 'Reshape']);
    const w = decoded.graph.initializer.find((t) => t.name === 'w')!;
    expect(w.dims).toEqual([3, 2]);
    expect(Array.from(new Float32Array(new Uint8Array(w.raw_data).buffer))).toEqual([1, 0, 0, 1, 1, 1]);
    const shape = decoded.graph.initializer.find((t) => t.name === 'shape')!;
    expect(Array.from(new BigInt64Array(new Uint8Array(shape.raw_data).buffer))).toEqual([0n, -1n]);
  });

  it('splits initializers into chunks whose concatenation is the same message', () => {
    const model = smallModel().toModel({ opsets, producerVersion: 't' });
    const parts = encodeModelParts(model);
    expect(parts.length).toBe(1 + model.graph.initializer.length);
    const whole = decodeModel(Buffer.concat(parts)) as {
      graph: { initializer: Array<{ name: string }>; node: unknown[] };
    };
    expect(whole.graph.initializer.map((t) => t.name)).toEqual(['w', 'b', 'gamma', 'beta', 'shape']);
    expect(whole.graph.node.length).toBe(4);
  });

  it('runs in ONNX Runtime with the expected numbers', async () => {
    const { session, provider } = await openSession(smallModel().encode({ opsets, producerVersion: 't' }), {
      threads: 1,
      device: 'cpu',
    });
    expect(provider).toBe('cpu');
    const out = await session.run({ x: new ort.Tensor('float32', Float32Array.of(1, 2, 3, 0, 0, 0), [2, 3]) });
    // row 1: xW + b = [1+3+0.5, 2+3-0.5] = [4.5, 4.5] → LN → [0, 0]; row 2: [0.5, -0.5] → LN → [1, -1] (eps aside)
    const y = Array.from(out['y']!.data as Float32Array);
    expect(y[0]).toBeCloseTo(0, 5);
    expect(y[1]).toBeCloseTo(0, 5);
    expect(y[2]).toBeCloseTo(1, 4);
    expect(y[3]).toBeCloseTo(-1, 4);
    await session.release();
  });

  it('refuses a node reading a value nothing produced, and duplicate names', () => {
    const g = new GraphBuilder('bad');
    g.input('x', TensorDataType.FLOAT, [1]);
    expect(() => g.op('Relu', ['nope'])).toThrow(/reads 'nope' before anything produces it/);
    expect(() => g.floatTensor('x', new Float32Array(1), [1])).toThrow(/used twice/);
    expect(() => g.floatTensor('z', new Float32Array(2), [3])).toThrow(/2 values for shape \[3\]/);
    expect(() => g.op('Transpose', ['x'], { perm: ints([0]) }, { outputs: ['x'] })).toThrow(/used twice/);
  });
});

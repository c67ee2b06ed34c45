import type * as Ort from 'onnxruntime-node';
import { GenrepError } from '../errors';
import type { GramBlock } from '../util/gramBlock';
import { modelProtoType } from './proto';

/**
 * A·Bᵀ of float32 row-major matrices with float64 accumulation, on ONNX Runtime's CPU GEMM (MLAS): the exact-kNN
 * Gram products of the scoring stage (docs/scoring.md, "Gram backend").
 *
 * The graph casts its float32 inputs to double itself, so JavaScript never holds float64 copies of the features
 * (and a product of two float32 values is exact in double, as in the JavaScript kernel). Dimensions are symbolic,
 * so one session serves every shape. The CPU memory arena stays on: it keeps the cast buffers' pages between runs,
 * and on the VMs this was measured on the first touch of fresh memory costs more than the multiplication itself
 * (~420 ms per 200 × 1000 × 6144 product without the arena, ~50 ms with it).
 */

const ONNX_DOUBLE = 11;
const ONNX_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_INTS = 7;

/**
 * Upper bound on the rows × dim values of one run's A and B inputs (a 341-row piece at 6144 dims). ONNX Runtime
 * holds double copies of both (and the transposed B), so this keeps its arena near 50 MB whatever the bank size;
 * measured as fast as 8 Mi-value pieces on the bench, with 50 MB less RSS and a cheaper first layer.
 */
const MAX_RUN_VALUES = 2 * 1024 * 1024;

/**
 * The ModelProto of C = double(A) · double(B)ᵀ with A: [m, k], B: [n, k] float32, C: [m, n] double. Transpose +
 * MatMul rather than Gemm(transB = 1): MLAS's double GEMM measured ~20 % faster on a pre-transposed B (33 vs 41 ms
 * for 200 × 6144 · 6144 × 1000), the transpose itself included.
 */
export function gramModelBytes(): Uint8Array {
  const tensor = (name: string, elemType: number, dims: string[]) => ({
    name,
    type: { tensor_type: { elem_type: elemType, shape: { dim: dims.map((d) => ({ dim_param: d })) } } },
  });
  const cast = (input: string, output: string) => ({
    name: `cast_${input}`,
    op_type: 'Cast',
    input: [input],
    output: [output],
    attribute: [{ name: 'to', type: ATTR_INT, i: ONNX_DOUBLE }],
  });
  const model = {
    ir_version: 8,
    opset_import: [{ domain: '', version: 17 }],
    producer_name: 'genrep',
    producer_version: '0',
    graph: {
      name: 'gram_f32_to_f64',
      node: [
        cast('A', 'A64'),
        cast('B', 'B64'),
        {
          name: 'transpose',
          op_type: 'Transpose',
          input: ['B64'],
          output: ['B64t'],
          attribute: [{ name: 'perm', type: ATTR_INTS, ints: [1, 0] }],
        },
        { name: 'matmul', op_type: 'MatMul', input: ['A64', 'B64t'], output: ['C'], attribute: [] },
      ],
      input: [tensor('A', ONNX_FLOAT, ['m', 'k']), tensor('B', ONNX_FLOAT, ['n', 'k'])],
      output: [tensor('C', ONNX_DOUBLE, ['m', 'n'])],
    },
  };
  const type = modelProtoType();
  const problem = type.verify(model);
  if (problem) throw new GenrepError(`Gram model: invalid ModelProto: ${problem}`, 'INTERNAL');
  return type.encode(type.fromObject(model)).finish();
}

export interface OrtGramOptions {
  /**
   * Intra-op threads; default 1. onnxruntime-node 1.30's double-precision MatMul/Gemm runs on one thread whatever
   * this says (measured: process CPU time equals wall time with 2 threads, and spinning pool threads made it slower),
   * so more threads only add idle ones.
   */
  threads?: number;
}

/** A·Bᵀ on ONNX Runtime. One instance holds one session; create it once per thread and reuse it. */
export class OrtGram {
  private scratch = new Float64Array(0);
  /** Runs one piece at a time: the scratch and staging buffers are shared, and concurrent scoring calls interleave. */
  private queue: Promise<unknown> = Promise.resolve();
  /** Copies of SharedArrayBuffer-backed inputs, which onnxruntime-node refuses ("Invalid argument"); reused. */
  private staging: [Float32Array, Float32Array] = [new Float32Array(0), new Float32Array(0)];

  private constructor(
    private readonly ort: typeof Ort,
    private readonly session: Ort.InferenceSession,
    readonly threads: number,
    /** onnxruntime-node's version, for logs. */
    readonly version: string,
  ) {}

  /**
   * Loads onnxruntime-node and creates the session. Rejects when the native module cannot load (unsupported platform,
   * missing binary) — callers fall back to the JavaScript kernel.
   */
  static async open(options: OrtGramOptions = {}): Promise<OrtGram> {
    const threads = options.threads ?? 1;
    if (!Number.isInteger(threads) || threads < 1)
      throw new GenrepError(`threads must be a positive integer, got ${threads}`, 'BAD_INPUT', { field: 'threads' });
    // Loaded here rather than imported at the top, so a missing native binary surfaces as a rejected promise the
    // caller can handle instead of breaking every module that imports the scoring code.
    const loaded = (await import('onnxruntime-node')) as typeof Ort & { default?: typeof Ort };
    // The CommonJS build arrives either as the namespace itself or wrapped in `default`, depending on the loader.
    const ort = typeof loaded.InferenceSession === 'function' ? loaded : loaded.default;
    if (!ort) throw new GenrepError('onnxruntime-node loaded without an InferenceSession', 'UNSUPPORTED');
    const session = await ort.InferenceSession.create(gramModelBytes(), {
      executionProviders: ['cpu'],
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      enableCpuMemArena: true,
      logSeverityLevel: 3,
      // Idle pool threads would otherwise spin after each product, taking the core the JavaScript between products
      // (top-k, MemMixup distances) runs on.
      extra: { session: { intra_op: { allow_spinning: '0' } } },
    });
    const versions: Partial<Record<string, string>> = ort.env.versions;
    return new OrtGram(ort, session, threads, versions['node'] ?? versions['common'] ?? 'unknown');
  }

  /**
   * One Gram block (see GramBlock): out[outOffset + i·outStride + j] = A[aStart + i] · B[bStart + j] for i < aRows,
   * j < bRows, the same contract as the JavaScript kernel's gramInto. Large operands run in pieces of at most
   * MAX_RUN_VALUES.
   */
  async gramInto(block: GramBlock): Promise<void> {
    const { A, aStart, aRows, B, bStart, bRows, dim, out, outOffset, outStride } = block;
    if (aRows === 0 || bRows === 0) return;
    if (dim === 0) {
      for (let i = 0; i < aRows; i++) out.fill(0, outOffset + i * outStride, outOffset + i * outStride + bRows);
      return;
    }
    const pieceRows = Math.max(1, Math.floor(MAX_RUN_VALUES / dim));
    for (let j0 = 0; j0 < bRows; j0 += pieceRows) {
      const nb = Math.min(pieceRows, bRows - j0);
      const Bp = B.subarray((bStart + j0) * dim, (bStart + j0 + nb) * dim);
      for (let i0 = 0; i0 < aRows; i0 += pieceRows) {
        const na = Math.min(pieceRows, aRows - i0);
        const Ap = A.subarray((aStart + i0) * dim, (aStart + i0 + na) * dim);
        const o = outOffset + i0 * outStride + j0;
        // Whole rows of `out` can take the result in place; a column piece goes through a scratch block.
        const direct = nb === outStride;
        await this.exclusive(async () => {
          const target = direct ? out.subarray(o, o + na * nb) : this.scratchOf(na * nb);
          await this.run(Ap, na, Bp, nb, dim, target);
          if (!direct) for (let i = 0; i < na; i++) out.set(target.subarray(i * nb, (i + 1) * nb), o + i * outStride);
        });
      }
    }
  }

  /**
   * A·Bᵀ as a new (aRows, bRows) row-major float64 matrix, of A: (aRows, dim) and B: (bRows, dim) row-major float32.
   */
  async gram(A: Float32Array, aRows: number, B: Float32Array, bRows: number, dim: number): Promise<Float64Array> {
    const out = new Float64Array(aRows * bRows);
    await this.gramInto({ A, aStart: 0, aRows, B, bStart: 0, bRows, dim, out, outOffset: 0, outStride: bRows });
    return out;
  }

  /** The native run blocks the thread anyway, so serialising the pieces costs nothing. */
  private exclusive(task: () => Promise<void>): Promise<void> {
    const result = this.queue.then(task);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private scratchOf(values: number): Float64Array {
    if (this.scratch.length < values) this.scratch = new Float64Array(values);
    return this.scratch.subarray(0, values);
  }

  private unshared(x: Float32Array, slot: 0 | 1): Float32Array {
    if (!(x.buffer instanceof SharedArrayBuffer)) return x;
    if (this.staging[slot].length < x.length) this.staging[slot] = new Float32Array(x.length);
    const copy = this.staging[slot].subarray(0, x.length);
    copy.set(x);
    return copy;
  }

  private async run(
    A: Float32Array,
    m: number,
    B: Float32Array,
    n: number,
    k: number,
    out: Float64Array,
  ): Promise<void> {
    const { Tensor } = this.ort;
    A = this.unshared(A, 0);
    B = this.unshared(B, 1);
    // Inputs and the pre-allocated output wrap the caller's memory: no copies on either side.
    const result = await this.session.run(
      { A: new Tensor('float32', A, [m, k]), B: new Tensor('float32', B, [n, k]) },
      { C: new Tensor('float64', out, [m, n]) },
    );
    const output = result['C'];
    if (!output) throw new GenrepError('the Gram model returned no output C', 'INTERNAL');
    const C = output.data as Float64Array;
    // onnxruntime-node writes into the given buffer; should a runtime version allocate its own output, copy it over.
    if (C.buffer !== out.buffer || C.byteOffset !== out.byteOffset) out.set(C.subarray(0, m * n));
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

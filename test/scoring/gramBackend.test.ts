import { afterAll, describe, expect, it } from 'vitest';
import type { GramBackend } from '../../worker/src/scoring';
import { gram, gramBackend, gramInto, scoreMachine, setGramBackend } from '../../worker/src/scoring';
import { goldenCaseBanks, loadGoldenScoring, maxRelativeError } from './goldenHelpers';
import { gaussian } from './random';

// Both Gram backends — ONNX Runtime's float64 GEMM and the JavaScript kernel — on the same inputs: products, the
// golden reference, and whole scoring runs must agree. Other tests in this file run on the default backend.
afterAll(() => setGramBackend('auto'));

async function use(choice: 'onnxruntime' | 'js'): Promise<GramBackend> {
  setGramBackend(choice);
  const backend = await gramBackend();
  expect(backend.name).toBe(choice);
  return backend;
}

/** |a − b| measured against the size a product of these rows can have (‖a_i‖·‖b_j‖), so zero-ish entries are fair. */
function maxScaledDiff(got: Float64Array, expected: Float64Array, aNorms: number[], bNorms: number[]): number {
  let m = 0;
  for (let i = 0; i < aNorms.length; i++) {
    for (let j = 0; j < bNorms.length; j++) {
      const k = i * bNorms.length + j;
      m = Math.max(m, Math.abs(got[k]! - expected[k]!) / (aNorms[i]! * bNorms[j]!));
    }
  }
  return m;
}

function rowNorms(X: Float32Array, rows: number, dim: number): number[] {
  return Array.from({ length: rows }, (_, r) => Math.hypot(...X.subarray(r * dim, (r + 1) * dim)));
}

describe('Gram backends', () => {
  it('auto picks ONNX Runtime when it loads (it is installed here) and says so', async () => {
    setGramBackend('auto');
    const backend = await gramBackend();
    expect(backend.name).toBe('onnxruntime');
    expect(backend.description).toMatch(/onnxruntime-node \d+\.\d+\.\d+ \(CPU, float64 MatMul, 1 thread\)/);
    expect(await gramBackend()).toBe(backend); // loaded once, reused
  });

  // Shapes cover one run, several pieces of B (scratch path), several pieces of A (written in place), 1 × 1 and an
  // odd dimension; ONNX Runtime runs at most 2 Mi values of each operand per product.
  for (const [aRows, bRows, dim] of [
    [7, 13, 48],
    [3, 2100, 1024],
    [2100, 5, 1024],
    [1, 1, 1],
    [33, 65, 6151],
  ] as const) {
    it(`ONNX Runtime and the JavaScript kernel agree to 1e-12 on ${aRows}×${dim} · (${bRows}×${dim})ᵀ`, async () => {
      const A = gaussian(aRows, dim, 101, 0.5);
      const B = gaussian(bRows, dim, 102, -0.25);
      const expected = gram(A, aRows, B, bRows, dim);
      const ort = await use('onnxruntime');
      const got = await ort.gram(A, aRows, B, bRows, dim);
      expect(got.length).toBe(aRows * bRows);
      expect(maxScaledDiff(got, expected, rowNorms(A, aRows, dim), rowNorms(B, bRows, dim))).toBeLessThan(1e-12);
    });
  }

  it('writes a sub-block at an offset and stride, from row offsets of both operands, leaving the rest alone', async () => {
    const dim = 1024;
    const A = gaussian(12, dim, 103);
    const B = gaussian(2200, dim, 104);
    const stride = 2300;
    const got = new Float64Array(15 * stride).fill(7);
    const expected = got.slice();
    gramInto({
      A,
      aStart: 2,
      aRows: 9,
      B,
      bStart: 50,
      bRows: 2100,
      dim,
      out: expected,
      outOffset: 3 * stride + 40,
      outStride: stride,
    });
    const ort = await use('onnxruntime');
    await ort.gramInto({
      A,
      aStart: 2,
      aRows: 9,
      B,
      bStart: 50,
      bRows: 2100,
      dim,
      out: got,
      outOffset: 3 * stride + 40,
      outStride: stride,
    });
    let maxDiff = 0;
    for (let i = 0; i < got.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i]! - expected[i]!));
    expect(maxDiff).toBeLessThan(1e-9); // entries are O(dim) = 1e3: 1e-12 relative
    expect(got[0]).toBe(7);
    expect(got[3 * stride + 39]).toBe(7);
    expect(got[3 * stride + 40 + 2100]).toBe(7);
    expect(got[12 * stride + 40]).toBe(7);
  });

  it('accepts features in a SharedArrayBuffer (which onnxruntime-node itself refuses)', async () => {
    const dim = 16;
    const plain = gaussian(20, dim, 105);
    const shared = new Float32Array(new SharedArrayBuffer(plain.byteLength));
    shared.set(plain);
    const ort = await use('onnxruntime');
    expect(Array.from(await ort.gram(shared, 20, shared, 20, dim))).toEqual(
      Array.from(await ort.gram(plain, 20, plain, 20, dim)),
    );
  });

  it('concurrent products on one session keep their staging and scratch buffers apart', async () => {
    const dim = 1024;
    const shared = (rows: number, seed: number) => {
      const plain = gaussian(rows, dim, seed);
      const out = new Float32Array(new SharedArrayBuffer(plain.byteLength));
      out.set(plain);
      return out;
    };
    // SharedArrayBuffer inputs go through staging copies, 2100 rows through two pieces and the scratch block.
    const [A1, B1, A2, B2] = [shared(3, 111), shared(2100, 112), shared(4, 113), shared(2100, 114)];
    const ort = await use('onnxruntime');
    const [g1, g2] = await Promise.all([ort.gram(A1, 3, B1, 2100, dim), ort.gram(A2, 4, B2, 2100, dim)]);
    expect(maxScaledDiff(g1, gram(A1, 3, B1, 2100, dim), rowNorms(A1, 3, dim), rowNorms(B1, 2100, dim))).toBeLessThan(
      1e-12,
    );
    expect(maxScaledDiff(g2, gram(A2, 4, B2, 2100, dim), rowNorms(A2, 4, dim), rowNorms(B2, 2100, dim))).toBeLessThan(
      1e-12,
    );
  });

  it('symmetric product: the full X·Xᵀ on ONNX Runtime equals the half-computed JavaScript one', async () => {
    const n = 300;
    const dim = 64;
    const X = gaussian(n, dim, 106);
    const expected = new Float64Array(n * n);
    await (await use('js')).gramSymmetricInto(X, n, dim, expected);
    const got = new Float64Array(n * n).fill(NaN);
    await (await use('onnxruntime')).gramSymmetricInto(X, n, dim, got);
    const norms = rowNorms(X, n, dim);
    expect(maxScaledDiff(got, expected, norms, norms)).toBeLessThan(1e-12);
  });
});

describe('scoring on both backends', () => {
  const golden = loadGoldenScoring();
  const c = golden.cases.find((x) => x.name === 'Ks990_Kn3')!;

  async function scoreWith(choice: 'onnxruntime' | 'js') {
    await use(choice);
    const banks = goldenCaseBanks(golden, c);
    const transductive = await scoreMachine({ banks, test: golden.test, dnMode: 'transductive' });
    // Inductive DN and the threshold add the leave-one-out training × training product.
    const inductive = await scoreMachine({ banks, test: golden.test, dnMode: 'inductive', threshold: true });
    return { transductive, inductive };
  }

  it('golden case Ks990_Kn3: each backend meets the reference (1e-5), and they agree with each other to 1e-12', async () => {
    const ort = await scoreWith('onnxruntime');
    const js = await scoreWith('js');
    for (const r of [ort, js]) {
      expect(maxRelativeError(r.transductive.d_source!, golden.set.f32(`${c.name}/d_source`).data)).toBeLessThan(1e-5);
      expect(maxRelativeError(r.transductive.d_target!, golden.set.f32(`${c.name}/d_target`).data)).toBeLessThan(1e-5);
      expect(maxRelativeError(r.transductive.score, golden.set.f32(`${c.name}/score_dn`).data)).toBeLessThan(1e-5);
    }
    for (const key of ['transductive', 'inductive'] as const) {
      expect(maxRelativeError(ort[key].d_source!, js[key].d_source!)).toBeLessThan(1e-12);
      expect(maxRelativeError(ort[key].d_target!, js[key].d_target!)).toBeLessThan(1e-12);
      // Scores are z-scores (near 0 for typical clips): compare on their own scale.
      expect(maxAbsDiff(ort[key].score, js[key].score)).toBeLessThan(1e-10);
    }
    for (let b = 0; b < 2; b++) {
      expect(
        Math.abs(ort.inductive.stats![b]!.mean - js.inductive.stats![b]!.mean) / js.inductive.stats![b]!.mean,
      ).toBeLessThan(1e-12);
      expect(
        Math.abs(ort.inductive.stats![b]!.std - js.inductive.stats![b]!.std) / js.inductive.stats![b]!.std,
      ).toBeLessThan(1e-9);
    }
    expect(maxAbsDiff(ort.inductive.trainScores!, js.inductive.trainScores!)).toBeLessThan(1e-10);
    expect(Math.abs(ort.inductive.threshold! - js.inductive.threshold!)).toBeLessThan(1e-10);
  });
});

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

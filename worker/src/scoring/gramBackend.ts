import { debuglog } from 'node:util';
import { GenrepError } from '../errors';
import { OrtGram } from '../onnx/matmul';
import type { GramBlock } from '../util/gramBlock';
import { gram, gramInto, gramSymmetricInto } from './gram';

/**
 * Where the Gram products of exact kNN run (docs/scoring.md, "Gram backend"): ONNX Runtime's float64 GEMM
 * (onnxruntime-node, ~15× the JavaScript kernel's speed per core) when it loads, else the JavaScript kernel of
 * gram.ts. Both take float32 rows and accumulate in float64; they agree to ~1e-15 relative.
 *
 * `NODE_DEBUG=genrep` logs which backend a thread uses and why.
 */

const debug = debuglog('genrep');

export type GramBackendName = 'onnxruntime' | 'js';
/** `auto`: ONNX Runtime when it loads, otherwise JavaScript. `onnxruntime`: fail when it does not load. */
export type GramBackendChoice = 'auto' | GramBackendName;

export interface GramBackend {
  readonly name: GramBackendName;
  /** Threads one product uses. */
  readonly threads: number;
  /** What runs the products and, for a fallback, why — the line NODE_DEBUG=genrep prints. */
  readonly description: string;
  /** One Gram block: out[outOffset + i·outStride + j] = A[aStart + i] · B[bStart + j] (see GramBlock). */
  gramInto(block: GramBlock): Promise<void>;
  /** A·Bᵀ, (aRows, bRows) float64, of A: (aRows, dim) and B: (bRows, dim) row-major float32. */
  gram(A: Float32Array, aRows: number, B: Float32Array, bRows: number, dim: number): Promise<Float64Array>;
  /** out = X·Xᵀ, (n, n) float64 overwritten, of X: (n, dim) row-major float32. */
  gramSymmetricInto(X: Float32Array, n: number, dim: number, out: Float64Array): Promise<void>;
}

export const jsGramBackend: GramBackend = {
  name: 'js',
  threads: 1,
  description: 'Gram products on the JavaScript kernel',
  // The kernel is synchronous; the promises only give both backends one shape.
  gramInto: (block) => Promise.resolve(gramInto(block)),
  gram: (A, aRows, B, bRows, dim) => Promise.resolve(gram(A, aRows, B, bRows, dim)),
  // The JavaScript kernel multiplies only the tiles on and above the diagonal.
  gramSymmetricInto: (X, n, dim, out) => Promise.resolve(gramSymmetricInto(X, n, dim, out)),
};

function ortBackend(ort: OrtGram): GramBackend {
  return {
    name: 'onnxruntime',
    threads: ort.threads,
    description: `Gram products on onnxruntime-node ${ort.version} (CPU, float64 MatMul, ${ort.threads} thread${ort.threads === 1 ? '' : 's'})`,
    gramInto: (block) => ort.gramInto(block),
    gram: (A, aRows, B, bRows, dim) => ort.gram(A, aRows, B, bRows, dim),
    // GEMM has no symmetric variant; the full product at BLAS speed beats half of it in JavaScript by far.
    gramSymmetricInto: (X, n, dim, out) =>
      ort.gramInto({ A: X, aStart: 0, aRows: n, B: X, bStart: 0, bRows: n, dim, out, outOffset: 0, outStride: n }),
  };
}

export interface GramBackendOptions {
  /** ONNX Runtime intra-op threads; default 1 (its float64 GEMM is single-threaded, see OrtGramOptions). */
  threads?: number;
}

let choice: GramBackendChoice = 'auto';
let options: GramBackendOptions = {};
let current: Promise<GramBackend> | undefined;

/**
 * Chooses the backend for this thread's later scoring calls (default `auto`). Worker threads each keep
 * their own choice. Calls already running finish on the backend they started with; a replaced ONNX Runtime session
 * is freed by the garbage collector once nothing uses it.
 */
export function setGramBackend(next: GramBackendChoice, nextOptions: GramBackendOptions = {}): void {
  if (next !== 'auto' && next !== 'onnxruntime' && next !== 'js') {
    throw new GenrepError(`unknown Gram backend '${String(next)}'`, 'BAD_INPUT', {
      field: 'gramBackend',
      expected: 'auto, onnxruntime or js',
    });
  }
  choice = next;
  options = { ...nextOptions };
  current = undefined;
}

/** The choice setGramBackend made in this thread, so threads that score for it (scorePool.ts) make the same one. */
export function gramBackendChoice(): { choice: GramBackendChoice; options: GramBackendOptions } {
  return { choice, options: { ...options } };
}

/**
 * The backend scoring uses in this thread. ONNX Runtime is loaded once; when it cannot load under `auto`, the
 * failure is logged (NODE_DEBUG=genrep) and the JavaScript kernel used from then on.
 */
export function gramBackend(): Promise<GramBackend> {
  current ??= resolveBackend(choice, options);
  return current;
}

async function resolveBackend(wanted: GramBackendChoice, opts: GramBackendOptions): Promise<GramBackend> {
  let backend: GramBackend;
  if (wanted === 'js') {
    backend = { ...jsGramBackend, description: `${jsGramBackend.description} (chosen)` };
  } else {
    try {
      backend = ortBackend(await OrtGram.open({ threads: opts.threads }));
    } catch (err) {
      const reason = describeError(err);
      if (wanted === 'onnxruntime') {
        throw new GenrepError(`onnxruntime-node is unavailable for the Gram products: ${reason}`, 'UNSUPPORTED', {
          expected: 'onnxruntime-node installed',
        });
      }
      backend = {
        ...jsGramBackend,
        description: `${jsGramBackend.description}: onnxruntime-node did not load (${reason})`,
      };
    }
  }
  debug(`scoring: ${backend.description}`);
  return backend;
}

/** The message, and its cause's (module loaders wrap the native library's own error). */
function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? err.cause.message : undefined;
  return cause && !err.message.includes(cause) ? `${err.message}: ${cause}` : err.message;
}

import { fileError, GenrepError } from '../errors';
import { squaredNorms } from './gram';
import type { HnswOptions } from '../protocol/vocabulary';

/** Checks of user-supplied feature matrices; each failure names the input (a file path in the CLI). */

/** The rows of `data` read as (rows, dim) row-major; refuses a length that is no multiple of dim. */
export function checkMatrixShape(data: Float32Array, dim: number, name: string): number {
  if (!Number.isInteger(dim) || dim <= 0)
    throw fileError(name, `feature dimension must be a positive integer, got ${dim}`, 'BAD_INPUT', { field: 'dim' });
  if (data.length % dim !== 0) {
    throw fileError(name, `${data.length} values do not form rows of ${dim} features`, 'BAD_INPUT', { field: 'shape' });
  }
  return data.length / dim;
}

/** NaN or ±Infinity in features would silently poison every distance (and NaN breaks the ordering kNN relies on). */
export function checkFinite(data: Float32Array, dim: number, name: string): void {
  // In bounds: i < data.length.
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v - v !== 0) throw notFinite(name, Math.floor(i / dim), i % dim, v);
  }
}

/**
 * ‖row‖² of every row, checking on the way that all features are finite — one pass instead of two over features
 * that scoring needs the norms of anyway. A float64 sum of squared float32 values is finite exactly when every value
 * is (no float32 square can overflow float64), so only a row whose norm is not finite is searched for the culprit.
 */
export function finiteSquaredNorms(
  data: Float32Array,
  rows: number,
  dim: number,
  name: string,
  words?: RowWords,
): Float64Array {
  const norms = squaredNorms(data, rows, dim);
  // In bounds: r < rows = norms.length, and r·dim + c < rows·dim, the matrix's length.
  for (let r = 0; r < rows; r++) {
    if (norms[r]! - norms[r]! === 0) continue;
    for (let c = 0; c < dim; c++) {
      const v = data[r * dim + c]!;
      if (v - v !== 0) throw notFinite(name, r, c, v, words);
    }
  }
  return norms;
}

/** How a message calls a row and the values ("row" / "features" for feature files, "bank row" in bank files). */
export interface RowWords {
  row: string;
  what: string;
}

const FEATURE_WORDS: RowWords = { row: 'row', what: 'features' };

function notFinite(name: string, row: number, col: number, v: number, words = FEATURE_WORDS): GenrepError {
  const problem = `${words.row} ${row}, column ${col} is ${v}; ${words.what} must be finite numbers`;
  return fileError(name, problem, 'BAD_INPUT', {
    field: `[${row}][${col}]`,
    expected: 'finite values',
  });
}

export function checkPositiveInteger(value: number, field: string, name: string): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new GenrepError(`${name}: ${field} must be a positive integer, got ${value}`, 'BAD_INPUT', { field });
  }
}

/**
 * MemMixup rows (K_s × target rows) one bank may have: its table holds 12 bytes per row (source id and ‖a‖²), so this
 * caps the table at 800 MB. The DCASE setting has 9 900.
 */
export const MAX_AUGMENTED_ROWS = 1 << 26;

/**
 * Accepted HNSW parameters. hnswlib-node takes them unchecked and crashes the whole process on some (M = 0 is a
 * SIGSEGV; M = 1 makes its level generator divide by log 1 = 0), and reads each as a uint32, so a negative or
 * fractional value would silently become another number. M beyond 512 only costs memory (hnswlib itself warns
 * above 10 000, on stderr); ef beyond 100 000 only costs time.
 */
export const HNSW_BOUNDS: Readonly<Record<keyof HnswOptions, readonly [number, number]>> = {
  m: [2, 512],
  efConstruction: [1, 100_000],
  efSearch: [1, 100_000],
  randomSeed: [0, 0xffff_ffff],
};

/** The first HNSW parameter that is not an integer within HNSW_BOUNDS, described, or null when all are. */
export function hnswProblem(
  options: Readonly<Partial<Record<keyof HnswOptions, unknown>>>,
): { field: keyof HnswOptions; problem: string } | null {
  for (const field of Object.keys(HNSW_BOUNDS) as (keyof HnswOptions)[]) {
    const [lo, hi] = HNSW_BOUNDS[field];
    const v = options[field];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
      return { field, problem: `must be an integer in ${lo}..${hi}, got ${describeValue(v)}` };
    }
  }
  return null;
}

/** A value from a file as it reads in a message: JSON, cut short, "missing" for undefined. */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing (missing)';
  let text: string;
  try {
    // JSON has no functions or symbols, the values JSON.stringify skips; named by their kind should one come.
    text = typeof v === 'number' && !Number.isFinite(v) ? String(v) : (JSON.stringify(v) ?? `a ${typeof v}`);
  } catch {
    text = '(an unprintable value)';
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

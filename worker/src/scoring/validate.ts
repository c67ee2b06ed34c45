import { fileError, GenrepError } from '../errors';
import { squaredNorms } from './gram';

/** Checks of user-supplied feature matrices; each failure names the input (a file path in the CLI). */

export function checkMatrixShape(data: Float32Array, dim: number, name: string): number {
  if (!Number.isInteger(dim) || dim <= 0) throw fileError(name, `feature dimension must be a positive integer, got ${dim}`, 'BAD_INPUT', { field: 'dim' });
  if (data.length % dim !== 0) {
    throw fileError(name, `${data.length} values do not form rows of ${dim} features`, 'BAD_INPUT', { field: 'shape' });
  }
  return data.length / dim;
}

/** NaN or ±Infinity in features would silently poison every distance (and NaN breaks the ordering kNN relies on). */
export function checkFinite(data: Float32Array, dim: number, name: string): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v - v !== 0) throw notFinite(name, Math.floor(i / dim), i % dim, v);
  }
}

/**
 * ‖row‖² of every row, checking on the way that all features are finite — one pass instead of two over features
 * that scoring needs the norms of anyway. A float64 sum of squared float32 values is finite exactly when every value
 * is (no float32 square can overflow float64), so only a row whose norm is not finite is searched for the culprit.
 */
export function finiteSquaredNorms(data: Float32Array, rows: number, dim: number, name: string): Float64Array {
  const norms = squaredNorms(data, rows, dim);
  for (let r = 0; r < rows; r++) {
    if (norms[r] - norms[r] === 0) continue;
    for (let c = 0; c < dim; c++) {
      const v = data[r * dim + c];
      if (v - v !== 0) throw notFinite(name, r, c, v);
    }
  }
  return norms;
}

function notFinite(name: string, row: number, col: number, v: number): GenrepError {
  return fileError(name, `row ${row}, column ${col} is ${v}; features must be finite numbers`, 'BAD_INPUT', {
    field: `[${row}][${col}]`,
    expected: 'finite values',
  });
}

export function checkPositiveInteger(value: number, field: string, name: string): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new GenrepError(`${name}: ${field} must be a positive integer, got ${value}`, 'BAD_INPUT', { field });
  }
}

import { fileError, GenrepError } from '../errors';

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
    if (v - v !== 0) {
      const row = Math.floor(i / dim);
      const col = i % dim;
      throw fileError(name, `row ${row}, column ${col} is ${v}; features must be finite numbers`, 'BAD_INPUT', {
        field: `[${row}][${col}]`,
        expected: 'finite values',
      });
    }
  }
}

export function checkPositiveInteger(value: number, field: string, name: string): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new GenrepError(`${name}: ${field} must be a positive integer, got ${value}`, 'BAD_INPUT', { field });
  }
}

/**
 * Layouts (protocol/encoderDescriptor.ts): comma-separated axis letters naming a tensor's axes, and moving data
 * between the model's order and the canonical orders the embedder works in ([B, T, F] into the encoder,
 * [L, B, T, F, D] out of it).
 */

import { GenrepError } from '../errors';

export type Axis = 'B' | 'S' | 'T' | 'F' | 'D' | 'L' | '1';
const AXES: readonly string[] = ['B', 'S', 'T', 'F', 'D', 'L', '1'];

/** 'B,1,F,T' → ['B', '1', 'F', 'T']; refuses unknown letters and repeated axes (unit axes may repeat). */
export function parseLayout(layout: string, where: string): Axis[] {
  const axes = layout.split(',').map((a) => a.trim());
  const seen = new Set<string>();
  for (const axis of axes) {
    if (!AXES.includes(axis)) {
      throw new GenrepError(
        `${where}: layout '${layout}' has axis '${axis}'; axes are B, S, T, F, D, L or 1`,
        'BAD_INPUT',
        { field: where, expected: 'comma-separated B, S, T, F, D, L, 1' },
      );
    }
    if (axis !== '1' && seen.has(axis)) {
      throw new GenrepError(`${where}: layout '${layout}' names axis '${axis}' twice`, 'BAD_INPUT', { field: where });
    }
    seen.add(axis);
  }
  // Samples are the waveform's time axis: one name for both, so T and S together would be the same axis twice.
  if (seen.has('S') && seen.has('T')) {
    throw new GenrepError(
      `${where}: layout '${layout}' has both S and T, which are the same (time) axis`,
      'BAD_INPUT',
      {
        field: where,
      },
    );
  }
  return axes as Axis[];
}

/** S is the time axis of a waveform: the embedder treats both as T. */
const canonical = (axis: Axis): Axis => (axis === 'S' ? 'T' : axis);

/**
 * Reorders a row-major tensor whose axes are `from` (sizes `dims`) into the order `to`. Unit axes ('1') are
 * dropped or added; an axis of `to` missing from `from` gets size 1, and an axis of `from` missing from `to` must
 * have size 1 (it is dropped). Returns the data and its new dims.
 */
export function transpose(
  data: Float32Array,
  from: readonly Axis[],
  dims: readonly number[],
  to: readonly Axis[],
): { data: Float32Array; dims: number[] } {
  if (from.length !== dims.length) {
    throw new GenrepError(`a [${dims.join(', ')}] tensor cannot have layout '${from.join(',')}'`, 'BAD_INPUT');
  }
  const size = new Map<Axis, number>();
  const srcStride = new Map<Axis, number>();
  let stride = 1;
  for (let i = from.length - 1; i >= 0; i--) {
    const axis = canonical(from[i]!);
    const n = dims[i]!;
    if (axis === '1' || !to.some((a) => canonical(a) === axis)) {
      if (n !== 1) {
        throw new GenrepError(
          `axis ${i} ('${from[i]}') of a [${dims.join(', ')}] tensor has size ${n}; it can only be dropped at size 1`,
          'BAD_INPUT',
        );
      }
    } else {
      size.set(axis, n);
      srcStride.set(axis, stride);
    }
    stride *= n;
  }
  if (stride !== data.length) {
    throw new GenrepError(`a [${dims.join(', ')}] tensor needs ${stride} values, got ${data.length}`, 'INTERNAL');
  }
  const outDims = to.map((a) => (a === '1' ? 1 : (size.get(canonical(a)) ?? 1)));
  const strides = to.map((a) => (a === '1' ? 0 : (srcStride.get(canonical(a)) ?? 0)));
  const out = new Float32Array(data.length);
  const rank = to.length;
  const index = new Array<number>(rank).fill(0);
  let src = 0;
  // Odometer over the output's indices, moving the source offset by the axis' source stride.
  for (let o = 0; o < out.length; o++) {
    out[o] = data[src]!; // src stays within data: each axis index < its size, and the strides are data's own
    for (let k = rank - 1; k >= 0; k--) {
      index[k] = index[k]! + 1;
      src += strides[k]!;
      if (index[k]! < outDims[k]!) break;
      src -= strides[k]! * outDims[k]!;
      index[k] = 0;
    }
  }
  return { data: out, dims: outDims };
}

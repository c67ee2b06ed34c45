import { PickleFault } from './pickle';
import { PyFloat, PyStateful, PyTuple, pyTypeName, shortText, type PyValue } from './pythonValues';

/**
 * NumPy scalars and dtypes in a checkpoint's cfg (`np.float64(0.1)` where a float was meant), admitted the way
 * torch's weights-only loader admits them: `numpy.core.multiarray.scalar(dtype, bytes)` with `numpy.dtype` rebuilt
 * from its reduce + setstate, and `_codecs.encode(text, 'latin1')` for the bytes a protocol-2 pickle cannot write
 * directly. Only numeric dtypes exist here and a scalar becomes a plain number (a PyFloat for float dtypes, a boolean
 * for bool), so nothing numpy-shaped outlives the unpickler; arrays (`_reconstruct`) stay unknown globals.
 */

interface NumericType {
  /** numpy's name, as a message and a cfg show it. */
  name: string;
  kind: 'float' | 'int' | 'uint' | 'bool';
  size: number;
}

/** `numpy.dtype(code, align, copy)` codes a scalar pickle uses (`dtype.str` without the byte order). */
const NUMERIC: Record<string, NumericType> = {
  f2: { name: 'float16', kind: 'float', size: 2 },
  f4: { name: 'float32', kind: 'float', size: 4 },
  f8: { name: 'float64', kind: 'float', size: 8 },
  i1: { name: 'int8', kind: 'int', size: 1 },
  i2: { name: 'int16', kind: 'int', size: 2 },
  i4: { name: 'int32', kind: 'int', size: 4 },
  i8: { name: 'int64', kind: 'int', size: 8 },
  u1: { name: 'uint8', kind: 'uint', size: 1 },
  u2: { name: 'uint16', kind: 'uint', size: 2 },
  u4: { name: 'uint32', kind: 'uint', size: 4 },
  u8: { name: 'uint64', kind: 'uint', size: 8 },
  b1: { name: 'bool', kind: 'bool', size: 1 },
};

const NUMERIC_SUMMARY = 'only numeric NumPy dtypes (float16/32/64, int8…int64, uint8…uint64, bool) are read';

function fault(message: string, code: 'CORRUPT' | 'UNSAFE' = 'CORRUPT'): PickleFault {
  return new PickleFault(message, code);
}

/**
 * A `numpy.dtype`: inert. It can be the first argument of the scalar function and nothing else; a cfg that holds
 * one alone reads it as its name (see topLevel.ts).
 */
export class NumpyDtype extends PyStateful {
  readonly pyType = 'numpy.dtype';
  /** Native order (little-endian on every platform torch writes from) until BUILD says otherwise. */
  littleEndian = true;
  constructor(readonly type: NumericType) {
    super();
  }

  /** numpy's `__setstate__` tuple: (version 3, byteorder, subarray, names, fields, elsize, alignment, flags[, metadata]). */
  setState(state: PyValue): void {
    const items = state instanceof PyTuple ? state.items : undefined;
    const [version, order, subarray, names, fields, elsize, alignment, flags, ...rest] = items ?? [];
    const shapeOk = (items?.length === 8 && version === 3) || (items?.length === 9 && version === 4);
    if (!shapeOk) {
      throw fault(`numpy.dtype state is ${describeState(state)}, expected numpy's version-3 (or 4) state tuple`);
    }
    if (subarray !== null || names !== null || fields !== null || (rest.length > 0 && rest[0] !== null)) {
      throw fault(`numpy.dtype state of ${this.type.name} has sub-arrays, fields or metadata; ${NUMERIC_SUMMARY}`);
    }
    if (elsize !== -1 || alignment !== -1 || (typeof flags !== 'number' && typeof flags !== 'bigint')) {
      throw fault(`numpy.dtype state of ${this.type.name} has element size, alignment or flags a numeric type lacks`);
    }
    if (order === '<' || order === '=' || order === '|') this.littleEndian = true;
    else if (order === '>') this.littleEndian = false;
    else
      throw fault(
        `numpy.dtype byte order is ${typeof order === 'string' ? `'${shortText(order)}'` : pyTypeName(order ?? null)}, expected '<', '>', '=' or '|'`,
      );
  }
}

function describeState(state: PyValue): string {
  if (!(state instanceof PyTuple)) return `a ${pyTypeName(state)}`;
  const head = state.items[0];
  return `a ${state.items.length}-tuple of version ${typeof head === 'number' ? head : pyTypeName(head ?? null)}`;
}

function makeDtype(args: readonly PyValue[]): NumpyDtype {
  // numpy pickles a dtype as dtype(code, False, True); the flags only matter for struct dtypes.
  const [code, align, copy] = args;
  if (args.length !== 3 || typeof align !== 'boolean' || typeof copy !== 'boolean') {
    throw fault(`numpy.dtype called with ${args.length} arguments, expected (code, align, copy) as numpy pickles it`);
  }
  if (typeof code !== 'string') throw fault(`numpy.dtype code is a ${pyTypeName(code ?? null)}, expected a string`);
  const type = Object.hasOwn(NUMERIC, code) ? NUMERIC[code] : undefined;
  if (type === undefined) {
    const what = code.startsWith('O') ? ' (Python objects: reading them would mean unpickling arbitrary objects)' : '';
    throw fault(`numpy.dtype '${shortText(code)}'${what} is refused: ${NUMERIC_SUMMARY}`, 'UNSAFE');
  }
  return new NumpyDtype(type);
}

/** Largest integer a JS number holds exactly; a cfg integer beyond it would silently change. */
const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

function makeScalar(args: readonly PyValue[]): PyValue {
  const [dtype, data] = args;
  if (args.length !== 2) {
    throw fault(`numpy scalar called with ${args.length} arguments, expected (dtype, bytes)`, 'UNSAFE');
  }
  if (!(dtype instanceof NumpyDtype)) {
    throw fault(`numpy scalar's first argument is a ${pyTypeName(dtype ?? null)}, expected a numpy.dtype`, 'UNSAFE');
  }
  const { name, kind, size } = dtype.type;
  if (!(data instanceof Uint8Array)) {
    throw fault(`numpy ${name} scalar's data is a ${pyTypeName(data ?? null)}, expected bytes`);
  }
  if (data.length !== size) {
    throw fault(`numpy ${name} scalar holds ${data.length} bytes, expected ${size}`);
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const le = dtype.littleEndian;
  switch (kind) {
    case 'bool':
      if (data[0]! > 1) throw fault(`numpy bool scalar holds byte ${data[0]!}, expected 0 or 1`); // size 1, checked
      return data[0] === 1;
    case 'float':
      return new PyFloat(
        size === 8 ? view.getFloat64(0, le) : size === 4 ? view.getFloat32(0, le) : halfToNumber(view.getUint16(0, le)),
      );
    case 'int':
    case 'uint': {
      if (size === 1) return kind === 'int' ? view.getInt8(0) : view.getUint8(0);
      if (size === 2) return kind === 'int' ? view.getInt16(0, le) : view.getUint16(0, le);
      if (size === 4) return kind === 'int' ? view.getInt32(0, le) : view.getUint32(0, le);
      const value = kind === 'int' ? view.getBigInt64(0, le) : view.getBigUint64(0, le);
      if (value > SAFE || value < -SAFE) {
        throw fault(`numpy ${name} scalar ${value} is beyond ±2^53, which a cfg number cannot hold exactly`);
      }
      return Number(value);
    }
  }
}

/** `_codecs.encode(text, 'latin1')`: how protocol 2 writes bytes; each character is one byte. */
function latin1Encode(args: readonly PyValue[]): Uint8Array {
  const [text, encoding] = args;
  if (args.length !== 2 || typeof text !== 'string' || (encoding !== 'latin1' && encoding !== 'latin-1')) {
    throw fault(`_codecs.encode is only read as encode(str, 'latin1'), how a pickle writes bytes`, 'UNSAFE');
  }
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff) throw fault(`_codecs.encode: character U+${c.toString(16)} is not latin-1`);
    out[i] = c;
  }
  return out;
}

/** The globals this file admits, by the qualified name a pickle uses. */
export const NUMPY_CALLABLES: Record<string, (args: readonly PyValue[]) => PyValue> = {
  'numpy.dtype': makeDtype,
  // NumPy 1 and NumPy 2 pickle the same function under two module names.
  'numpy.core.multiarray.scalar': makeScalar,
  'numpy._core.multiarray.scalar': makeScalar,
  '_codecs.encode': latin1Encode,
};

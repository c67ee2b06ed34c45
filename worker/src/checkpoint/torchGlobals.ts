import { NUMPY_CALLABLES } from './numpyScalars';
import { PickleFault, type UnpickleHooks } from './pickle';
import { PyCallable, PyDict, PyFloat, PyObject, PyTuple, pyTypeName, shortText, type PyValue } from './pythonValues';

/**
 * The allowlist: the only globals a `torch.save` state dict refers to, each mapped to an inert stand-in. Tensors
 * are not built here, only described (storage, offset, size, stride); the reader fills them from the archive.
 */

/** Element types the reader converts to float32. */
export type StorageDtype =
  'float32' | 'float64' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

export const ITEM_SIZE: Record<StorageDtype, number> = {
  float32: 4,
  float64: 8,
  float16: 2,
  bfloat16: 2,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

const CONVERTIBLE: Record<string, StorageDtype> = {
  FloatStorage: 'float32',
  DoubleStorage: 'float64',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};

/** Real torch storage types that are harmless to name but hold values a float32 tensor cannot represent. */
const NOT_CONVERTIBLE: Record<string, string> = {
  ComplexFloatStorage: 'complex64',
  ComplexDoubleStorage: 'complex128',
  QInt8Storage: 'qint8',
  QUInt8Storage: 'quint8',
  QInt32Storage: 'qint32',
  QUInt4x2Storage: 'quint4x2',
  QUInt2x4Storage: 'quint2x4',
  UntypedStorage: 'untyped bytes',
};

export class StorageType extends PyObject {
  readonly pyType = 'type';
  override readonly qualifiedName: string;
  constructor(
    readonly name: string,
    /** undefined: a storage type we recognise but cannot convert (see `dtypeName`). */
    readonly dtype: StorageDtype | undefined,
    readonly dtypeName: string,
  ) {
    super();
    this.qualifiedName = `torch.${name}`;
  }
}

export class StorageRef extends PyObject {
  readonly pyType: string;
  constructor(
    readonly key: string,
    readonly type: StorageType,
    readonly location: string,
    readonly numel: number,
  ) {
    super();
    this.pyType = `torch.${type.name}`;
  }
}

export class TensorRef extends PyObject {
  readonly pyType = 'torch.Tensor';
  constructor(
    readonly storage: StorageRef,
    readonly storageOffset: number,
    readonly size: readonly number[],
    readonly stride: readonly number[],
  ) {
    super();
  }
}

/** Storage keys are decimal counters in every torch version; anything path-like is refused. */
const STORAGE_KEY = /^[A-Za-z0-9_]{1,64}$/;

function fault(message: string, code: 'CORRUPT' | 'UNSAFE' | 'UNSUPPORTED' = 'CORRUPT'): PickleFault {
  return new PickleFault(message, code);
}

function nonNegativeInt(value: PyValue, what: string): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  throw fault(`${what} is ${describe(value)}, expected a non-negative integer`);
}

function intTuple(value: PyValue, what: string): number[] {
  // torch.Size and strides are pickled as plain tuples
  if (!(value instanceof PyTuple)) throw fault(`${what} is a ${pyTypeName(value)}, expected a tuple of integers`);
  return value.items.map((v, i) => nonNegativeInt(v, `${what}[${i}]`));
}

function describe(value: PyValue): string {
  if (typeof value === 'number' || typeof value === 'bigint') return `${pyTypeName(value)} ${value}`;
  if (value instanceof PyFloat) return `float ${value.value}`;
  if (typeof value === 'string') return `str '${shortText(value)}'`;
  return `a ${pyTypeName(value)}`;
}

function arity(name: string, args: readonly PyValue[], allowed: number[]): void {
  if (!allowed.includes(args.length)) {
    throw fault(`${name} called with ${args.length} arguments, expected ${allowed.join(' or ')}`);
  }
}

function tensorFromArgs(name: string, args: readonly PyValue[]): TensorRef {
  const [storage, offset, size, stride] = args;
  if (!(storage instanceof StorageRef))
    throw fault(`${name}: first argument is a ${pyTypeName(storage ?? null)}, expected a storage`);
  const shape = intTuple(size ?? null, `${name} size`);
  const strides = intTuple(stride ?? null, `${name} stride`);
  if (shape.length !== strides.length) {
    throw fault(`${name}: size has ${shape.length} dimensions but stride has ${strides.length}`);
  }
  return new TensorRef(storage, nonNegativeInt(offset ?? null, `${name} storage offset`), shape, strides);
}

function checkHooks(name: string, hooks: PyValue | undefined): void {
  // torch always writes an empty OrderedDict here ("don't serialize hooks"); hooks would be callables anyway.
  if (!(hooks instanceof PyDict))
    throw fault(`${name}: backward_hooks is a ${pyTypeName(hooks ?? null)}, expected a dict`);
}

function tensorArg(name: string, value: PyValue | undefined): TensorRef {
  if (value instanceof TensorRef) return value;
  throw fault(`${name}: data is a ${pyTypeName(value ?? null)}, expected a tensor`);
}

function orderedDict(args: readonly PyValue[]): PyDict {
  const dict = new PyDict(true);
  if (args.length === 0) return dict;
  const [source] = args;
  if (args.length === 1 && source instanceof PyDict) {
    for (const [k, v] of source.items()) dict.set(k, v);
    return dict;
  }
  if (args.length === 1 && (Array.isArray(source) || source instanceof PyTuple)) {
    for (const pair of Array.isArray(source) ? source : source.items) {
      const [key, value, ...more] = pair instanceof PyTuple ? pair.items : [];
      if (key === undefined || value === undefined || more.length > 0)
        throw fault('OrderedDict built from something other than pairs');
      dict.set(key, value);
    }
    return dict;
  }
  throw fault(
    `OrderedDict called with ${args.length === 1 ? `a ${pyTypeName(source ?? null)}` : `${args.length} arguments`}`,
  );
}

const CALLABLES: Record<string, (args: readonly PyValue[]) => PyValue> = {
  'collections.OrderedDict': orderedDict,
  'torch._utils._rebuild_tensor': (args) => {
    arity('_rebuild_tensor', args, [4]);
    return tensorFromArgs('_rebuild_tensor', args);
  },
  'torch._utils._rebuild_tensor_v2': (args) => {
    // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
    arity('_rebuild_tensor_v2', args, [6, 7]);
    checkHooks('_rebuild_tensor_v2', args[5]);
    return tensorFromArgs('_rebuild_tensor_v2', args);
  },
  'torch._utils._rebuild_parameter': (args) => {
    // (data, requires_grad, backward_hooks)
    arity('_rebuild_parameter', args, [3]);
    checkHooks('_rebuild_parameter', args[2]);
    return tensorArg('_rebuild_parameter', args[0]);
  },
  'torch._utils._rebuild_parameter_with_state': (args) => {
    // (data, requires_grad, backward_hooks, state): the state holds Python attributes, not weights
    arity('_rebuild_parameter_with_state', args, [4]);
    checkHooks('_rebuild_parameter_with_state', args[2]);
    return tensorArg('_rebuild_parameter_with_state', args[0]);
  },
};

const ALLOWED_SUMMARY =
  'a checkpoint may only name collections.OrderedDict, torch._utils tensor/parameter rebuild functions, torch storage types ' +
  'and NumPy numeric scalars (numpy.core.multiarray.scalar, numpy.dtype, _codecs.encode)';

export interface TorchUnpickleState {
  hooks: UnpickleHooks;
  /** Every storage the pickle referred to, by key. */
  storages: Map<string, StorageRef>;
}

export function torchUnpickleHooks(): TorchUnpickleState {
  const storages = new Map<string, StorageRef>();
  const callables = new Map<string, PyCallable>();
  const storageTypes = new Map<string, StorageType>();

  const findGlobal = (module: string, name: string): PyValue => {
    const qualified = `${module}.${name}`;
    // own properties only: `'constructor' in {}` is true
    const fn = Object.hasOwn(CALLABLES, qualified)
      ? CALLABLES[qualified]
      : Object.hasOwn(NUMPY_CALLABLES, qualified)
        ? NUMPY_CALLABLES[qualified]
        : undefined;
    if (fn !== undefined) {
      let callable = callables.get(qualified);
      if (!callable) callables.set(qualified, (callable = new PyCallable(qualified, fn)));
      return callable;
    }
    if (module === 'torch' && (Object.hasOwn(CONVERTIBLE, name) || Object.hasOwn(NOT_CONVERTIBLE, name))) {
      let type = storageTypes.get(name);
      if (!type) {
        const dtype = Object.hasOwn(CONVERTIBLE, name) ? CONVERTIBLE[name] : undefined;
        // One of the two tables has `name` (checked above): a dtype we convert, or the name of one we cannot.
        const dtypeName = dtype ?? NOT_CONVERTIBLE[name];
        if (dtypeName === undefined) throw new PickleFault(`storage type ${name} is in neither table`, 'INTERNAL');
        type = new StorageType(name, dtype, dtypeName);
        storageTypes.set(name, type);
      }
      return type;
    }
    throw fault(
      `forbidden pickle global ${shortText(qualified)}: ${ALLOWED_SUMMARY}; loading this file would run other code, ` +
        'so it is refused',
      'UNSAFE',
    );
  };

  const persistentLoad = (pid: PyValue): PyValue => {
    // ('storage', storage_type, key, location, numel), as torch.serialization._save writes it
    if (!(pid instanceof PyTuple) || pid.items[0] !== 'storage') {
      throw fault(
        `persistent id is ${describe(pid)}; only ('storage', type, key, location, numel) is allowed`,
        'UNSAFE',
      );
    }
    const [, type, key, location, numel, ...more] = pid.items;
    if (type === undefined || key === undefined || location === undefined || numel === undefined || more.length > 0)
      throw fault(`storage persistent id has ${pid.items.length} fields, expected 5`);
    if (!(type instanceof StorageType)) throw fault(`storage type is ${describe(type)}, expected a torch storage type`);
    if (typeof key !== 'string' || !STORAGE_KEY.test(key)) {
      throw fault(`storage key ${describe(key)} is not a plain name; refusing to look it up in the archive`, 'UNSAFE');
    }
    if (typeof location !== 'string')
      throw fault(`storage location is ${describe(location)}, expected a device string`);
    const count = nonNegativeInt(numel, `storage ${key} numel`);
    const existing = storages.get(key);
    if (existing) {
      if (existing.type !== type || existing.numel !== count) {
        throw fault(
          `storage ${key} is declared twice with different types or sizes (${existing.type.name}[${existing.numel}], ${type.name}[${count}])`,
        );
      }
      return existing;
    }
    const ref = new StorageRef(key, type, location, count);
    storages.set(key, ref);
    return ref;
  };

  return { hooks: { findGlobal, persistentLoad }, storages };
}

/**
 * The Python values a restricted unpickler can produce. Only inert data lives here: containers and scalars, plus the
 * objects the torch allowlist builds (they extend PyObject). Nothing here can run code.
 */

/** Objects made by an allowlisted global: a callable, a storage type, a storage, a tensor. */
export abstract class PyObject {
  /** The Python type, as a message would name it (`collections.OrderedDict`, `torch.FloatStorage`, …). */
  abstract readonly pyType: string;
  /** For globals (functions, types): the dotted name the pickle used. */
  readonly qualifiedName?: string;
}

export type PyValue =
  | null
  | boolean
  | number // Python float, or an int within ±2^53
  | bigint // Python int beyond ±2^53
  | string
  | Uint8Array // Python bytes
  | PyValue[] // Python list
  | PyObject;

export class PyTuple extends PyObject {
  readonly pyType = 'tuple';
  constructor(readonly items: readonly PyValue[]) {
    super();
  }
}

export class PySet extends PyObject {
  readonly items: PyValue[] = [];
  constructor(readonly pyType: 'set' | 'frozenset') {
    super();
  }
}

/** A dict or OrderedDict: keeps insertion order, compares keys the way Python hashes them. */
export class PyDict extends PyObject {
  readonly pyType: 'dict' | 'collections.OrderedDict';
  /** Instance attributes set by BUILD (a state dict's `_metadata`); only an OrderedDict can have them. */
  readonly attributes = new Map<string, PyValue>();
  private readonly entries = new Map<string, [PyValue, PyValue]>();

  constructor(ordered: boolean) {
    super();
    this.pyType = ordered ? 'collections.OrderedDict' : 'dict';
  }

  get size(): number {
    return this.entries.size;
  }

  set(key: PyValue, value: PyValue): void {
    const hashed = hashKey(key);
    const existing = this.entries.get(hashed);
    // Python keeps the first key object and its position when a key is assigned again.
    this.entries.set(hashed, [existing ? existing[0] : key, value]);
  }

  get(key: PyValue): PyValue | undefined {
    return this.entries.get(hashKey(key))?.[1];
  }

  has(key: PyValue): boolean {
    return this.entries.has(hashKey(key));
  }

  *items(): IterableIterator<[PyValue, PyValue]> {
    yield* this.entries.values();
  }
}

/** A callable the allowlist permits: REDUCE, NEWOBJ, INST and OBJ may call nothing else. */
export class PyCallable extends PyObject {
  readonly pyType = 'builtin_function_or_method';
  constructor(
    override readonly qualifiedName: string,
    readonly call: (args: readonly PyValue[]) => PyValue,
  ) {
    super();
  }
}

export class UnhashableKeyError extends Error {}

/** Deeper tuple keys are refused rather than risk the JS stack (no real key comes close). */
const MAX_KEY_NESTING = 32;

/** A string that is equal for keys Python considers equal (1, 1.0 and True hash alike). */
export function hashKey(key: PyValue, depth = 0): string {
  if (depth > MAX_KEY_NESTING) throw new UnhashableKeyError(`dict key nested more than ${MAX_KEY_NESTING} tuples deep`);
  if (key === null) return 'None';
  switch (typeof key) {
    case 'boolean':
      return `n:${key ? 1 : 0}`;
    case 'number':
    case 'bigint':
      return `n:${key.toString()}`;
    case 'string':
      return `s:${key}`;
    default:
  }
  if (key instanceof Uint8Array) return `b:${Buffer.from(key).toString('hex')}`;
  if (key instanceof PyTuple) return `t(${key.items.map((item) => hashKey(item, depth + 1)).join(',')})`;
  throw new UnhashableKeyError(`unhashable dict key of type ${pyTypeName(key)}`);
}

export function pyTypeName(value: PyValue): string {
  if (value === null) return 'None';
  switch (typeof value) {
    case 'boolean':
      return 'bool';
    case 'number':
      return Number.isInteger(value) ? 'int' : 'float';
    case 'bigint':
      return 'int';
    case 'string':
      return 'str';
    default:
  }
  if (value instanceof Uint8Array) return 'bytes';
  if (Array.isArray(value)) return 'list';
  return value.pyType;
}

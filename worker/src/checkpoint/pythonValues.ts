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
  | number // Python int within ±2^53 (a float too, unless the unpickler was asked to box floats)
  | bigint // Python int beyond ±2^53
  | string
  | Uint8Array // Python bytes
  | PyValue[] // Python list
  | PyObject;

/**
 * A Python float, when the unpickler is asked to keep the distinction: JS cannot tell `2.0` from `2`, and a
 * checkpoint's cfg must hold integers where the architecture sizes something from them.
 */
export class PyFloat extends PyObject {
  readonly pyType = 'float';
  constructor(readonly value: number) {
    super();
  }
}

/** An object BUILD may give state to (numpy's dtype); each subclass checks the state it accepts. */
export abstract class PyStateful extends PyObject {
  abstract setState(state: PyValue): void;
}

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

  /** Returns the length of the key's hash, which the dict now holds: the unpickler charges it to its budget. */
  set(key: PyValue, value: PyValue): number {
    const hashed = hashKey(key);
    const existing = this.entries.get(hashed);
    // Python keeps the first key object and its position when a key is assigned again.
    this.entries.set(hashed, [existing ? existing[0] : key, value]);
    return hashed.length;
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
/**
 * Items visited, and characters produced, for one key: memo references let a few bytes name a tuple whose
 * expansion has 2^32 leaves or repeats a megabyte string thousands of times, and hashing it would never finish.
 */
const MAX_KEY_ITEMS = 4096;
const MAX_KEY_CHARS = 16 * 2 ** 20;

interface KeyBudget {
  items: number;
  chars: number;
}

/** A string that is equal for keys Python considers equal (1, 1.0 and True hash alike). */
export function hashKey(key: PyValue): string {
  return hashKeyWithin(key, 0, { items: MAX_KEY_ITEMS, chars: MAX_KEY_CHARS });
}

function hashKeyWithin(key: PyValue, depth: number, budget: KeyBudget): string {
  if (depth > MAX_KEY_NESTING) throw new UnhashableKeyError(`dict key nested more than ${MAX_KEY_NESTING} tuples deep`);
  if (--budget.items < 0) throw new UnhashableKeyError(`dict key has more than ${MAX_KEY_ITEMS} items`);
  const text = scalarKey(key) ?? tupleKey(key, depth, budget);
  budget.chars -= text.length;
  if (budget.chars < 0) throw new UnhashableKeyError(`dict key is longer than ${MAX_KEY_CHARS} characters`);
  return text;
}

function scalarKey(key: PyValue): string | undefined {
  if (key === null) return 'None';
  if (typeof key === 'boolean') return `n:${key ? 1 : 0}`;
  if (typeof key === 'number' || typeof key === 'bigint') return `n:${key.toString()}`;
  if (typeof key === 'string') return `s:${key}`;
  if (key instanceof PyFloat) return `n:${key.value.toString()}`;
  if (key instanceof Uint8Array && key.length <= MAX_KEY_CHARS / 2) return `b:${Buffer.from(key).toString('hex')}`;
  return undefined;
}

function tupleKey(key: PyValue, depth: number, budget: KeyBudget): string {
  if (key instanceof PyTuple) return `t(${key.items.map((item) => hashKeyWithin(item, depth + 1, budget)).join(',')})`;
  if (key instanceof Uint8Array) throw new UnhashableKeyError(`dict key is longer than ${MAX_KEY_CHARS} characters`);
  throw new UnhashableKeyError(`unhashable dict key of type ${pyTypeName(key)}`);
}

export function pyTypeName(value: PyValue): string {
  if (value === null) return 'None';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  if (typeof value === 'bigint') return 'int';
  if (typeof value === 'string') return 'str';
  if (value instanceof Uint8Array) return 'bytes';
  if (Array.isArray(value)) return 'list';
  return value.pyType;
}

/** Longest name taken from a file that a message repeats; a key or global name can be megabytes long. */
const MAX_SHOWN_CHARS = 200;

/** `text`, cut to a length an error line can carry (control characters are escaped by GenrepError itself). */
export function shortText(text: string, max = MAX_SHOWN_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} characters)`;
}

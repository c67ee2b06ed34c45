import type { ErrorCode } from '../errors';
import {
  hashKey,
  PyCallable,
  PyDict,
  PyFloat,
  PyObject,
  PySet,
  PyStateful,
  PyTuple,
  pyTypeName,
  shortText,
  UnhashableKeyError,
  type PyValue,
} from './pythonValues';

/**
 * A restricted unpickler: it implements the opcodes a `torch.save` state dict uses and nothing that can reach code
 * except through `hooks.findGlobal`, which decides which globals exist at all. Calls (REDUCE, NEWOBJ, INST, OBJ) work
 * only on the PyCallable objects that hook returns, and BUILD only sets attributes on an OrderedDict, so a pickle
 * that would import `os.system` or call anything else is refused before anything happens.
 */
export interface UnpickleHooks {
  /** Returns the allowed object for `module.name`, or throws PickleFault('UNSAFE') naming it. */
  findGlobal(module: string, name: string): PyValue;
  /** Resolves a persistent id (torch: a storage reference). */
  persistentLoad(pid: PyValue): PyValue;
}

/** A problem found while unpickling; the caller adds the file and entry it came from. */
export class PickleFault extends Error {
  constructor(
    message: string,
    readonly code: ErrorCode,
  ) {
    super(message);
  }
}

export interface UnpickleOptions {
  /** Python floats as PyFloat rather than plain numbers, so `2.0` stays distinguishable from `2`. */
  boxFloats?: boolean;
  /**
   * Estimated bytes of objects the pickle may build (containers, memo entries, dict keys). A few bytes of opcodes
   * can make a large object (EMPTY_DICT is one byte; a memoised megabyte string can key a thousand dicts), so the
   * pickle's own size does not bound the memory it takes. Default DEFAULT_MAX_OBJECT_BYTES.
   */
  maxObjectBytes?: number;
}

/** A torch state dict's pickle builds ~1 KB of objects per tensor; this allows some 100 000 tensors. */
export const DEFAULT_MAX_OBJECT_BYTES = 128 * 2 ** 20;
/** Rough cost of what stays alive per object: a dict is a JS object and two Maps, the others one object. */
const DICT_COST = 320;
const OBJECT_COST = 80;
const MEMO_ENTRY_COST = 64;
const DICT_ENTRY_COST = 64;

/** Longest LONG4 integer accepted, in bytes: a state dict holds no integer near this. */
const MAX_LONG_BYTES = 1024;
const HIGHEST_PROTOCOL = 5;

const op = {
  MARK: 0x28,
  STOP: 0x2e,
  POP: 0x30,
  POP_MARK: 0x31,
  DUP: 0x32,
  FLOAT: 0x46,
  INT: 0x49,
  BININT: 0x4a,
  BININT1: 0x4b,
  LONG: 0x4c,
  BININT2: 0x4d,
  NONE: 0x4e,
  PERSID: 0x50,
  BINPERSID: 0x51,
  REDUCE: 0x52,
  STRING: 0x53,
  BINSTRING: 0x54,
  SHORT_BINSTRING: 0x55,
  UNICODE: 0x56,
  BINUNICODE: 0x58,
  APPEND: 0x61,
  BUILD: 0x62,
  GLOBAL: 0x63,
  DICT: 0x64,
  EMPTY_DICT: 0x7d,
  APPENDS: 0x65,
  GET: 0x67,
  BINGET: 0x68,
  INST: 0x69,
  LONG_BINGET: 0x6a,
  LIST: 0x6c,
  EMPTY_LIST: 0x5d,
  OBJ: 0x6f,
  PUT: 0x70,
  BINPUT: 0x71,
  LONG_BINPUT: 0x72,
  SETITEM: 0x73,
  TUPLE: 0x74,
  EMPTY_TUPLE: 0x29,
  SETITEMS: 0x75,
  BINFLOAT: 0x47,
  // protocol 2
  PROTO: 0x80,
  NEWOBJ: 0x81,
  EXT1: 0x82,
  EXT2: 0x83,
  EXT4: 0x84,
  TUPLE1: 0x85,
  TUPLE2: 0x86,
  TUPLE3: 0x87,
  NEWTRUE: 0x88,
  NEWFALSE: 0x89,
  LONG1: 0x8a,
  LONG4: 0x8b,
  // protocol 3
  BINBYTES: 0x42,
  SHORT_BINBYTES: 0x43,
  // protocol 4
  SHORT_BINUNICODE: 0x8c,
  BINUNICODE8: 0x8d,
  BINBYTES8: 0x8e,
  EMPTY_SET: 0x8f,
  ADDITEMS: 0x90,
  FROZENSET: 0x91,
  NEWOBJ_EX: 0x92,
  STACK_GLOBAL: 0x93,
  MEMOIZE: 0x94,
  FRAME: 0x95,
  // protocol 5
  BYTEARRAY8: 0x96,
  NEXT_BUFFER: 0x97,
  READONLY_BUFFER: 0x98,
} as const;

const utf8 = new TextDecoder('utf-8', { fatal: true });

class Reader {
  pos = 0;
  private readonly view: DataView;
  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  get done(): boolean {
    return this.pos >= this.bytes.length;
  }
  need(n: number): void {
    if (n > this.bytes.length - this.pos) {
      throw new PickleFault(`pickle is truncated: needs ${n} more bytes at byte ${this.pos}`, 'CORRUPT');
    }
  }
  u8(): number {
    this.need(1); // so pos < bytes.length
    return this.bytes[this.pos++]!;
  }
  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }
  i32(): number {
    this.need(4);
    const v = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  u64(): number {
    this.need(8);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new PickleFault(`pickle length ${v} is impossibly large`, 'CORRUPT');
    return Number(v);
  }
  f64be(): number {
    this.need(8);
    const v = this.view.getFloat64(this.pos, false); // BINFLOAT is big-endian
    this.pos += 8;
    return v;
  }
  take(n: number): Uint8Array {
    if (n < 0) throw new PickleFault(`negative length ${n} in pickle`, 'CORRUPT');
    this.need(n);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  /** A protocol-0 text argument: bytes up to the next newline. */
  line(): string {
    const end = this.bytes.indexOf(0x0a, this.pos);
    if (end < 0)
      throw new PickleFault(`pickle is truncated: unterminated text argument at byte ${this.pos}`, 'CORRUPT');
    const text = decodeText(this.bytes.subarray(this.pos, end));
    this.pos = end + 1;
    return text;
  }
}

function decodeText(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new PickleFault('pickle string is not valid UTF-8', 'CORRUPT');
  }
}

/** Two's-complement little-endian integer (LONG1/LONG4); a number where it fits exactly, a bigint otherwise. */
function decodeLong(bytes: Uint8Array): number | bigint {
  if (bytes.length === 0) return 0;
  let value = 0n;
  // 0 ≤ i < bytes.length, and bytes is not empty.
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]!);
  if (bytes[bytes.length - 1]! & 0x80) value -= 1n << BigInt(8 * bytes.length);
  return narrowInt(value);
}

function narrowInt(value: bigint): number | bigint {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

/** Decimal digits of the longest integer LONG4 may carry; BigInt parsing is quadratic in the length. */
const MAX_TEXT_INT_CHARS = Math.ceil(MAX_LONG_BYTES * 8 * Math.log10(2)) + 2;

function parseTextInt(text: string): number | bigint {
  if (text.length > MAX_TEXT_INT_CHARS) {
    const limit = `the ${MAX_TEXT_INT_CHARS}-digit limit`;
    throw new PickleFault(`pickle integer of ${text.length} digits exceeds ${limit}`, 'UNSUPPORTED');
  }
  const digits = text.endsWith('L') ? text.slice(0, -1) : text;
  if (!/^[+-]?\d+$/.test(digits)) throw new PickleFault(`malformed pickle integer '${shortText(text)}'`, 'CORRUPT');
  return narrowInt(BigInt(digits));
}

function mib(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(0);
}

function callableOf(value: PyValue, what: string): PyCallable {
  if (value instanceof PyCallable) return value;
  const named =
    value instanceof PyObject && value.qualifiedName !== undefined
      ? `${value.qualifiedName} (a ${value.pyType})`
      : `a ${pyTypeName(value)}`;
  throw new PickleFault(`pickle ${what} ${named}, which is not an allowed function`, 'UNSAFE');
}

function argsOf(value: PyValue): readonly PyValue[] {
  if (value instanceof PyTuple) return value.items;
  throw new PickleFault(`pickle call arguments are a ${pyTypeName(value)}, not a tuple`, 'CORRUPT');
}

function opName(code: number): string {
  for (const [name, value] of Object.entries(op)) if (value === code) return name;
  return `0x${code.toString(16).padStart(2, '0')}`;
}

export function unpickle(bytes: Uint8Array, hooks: UnpickleHooks, options: UnpickleOptions = {}): PyValue {
  const r = new Reader(bytes);
  const maxObjectBytes = options.maxObjectBytes ?? DEFAULT_MAX_OBJECT_BYTES;
  let objectBytes = 0;
  const charge = (bytes: number): void => {
    objectBytes += bytes;
    if (objectBytes > maxObjectBytes) {
      throw new PickleFault(
        `pickle builds more than ${mib(maxObjectBytes)} MiB of objects by byte ${r.pos - 1} ` +
          '(a state dict needs about 1 KB per tensor); refusing it',
        'UNSAFE',
      );
    }
  };
  const made = <T>(value: T, cost = OBJECT_COST): T => {
    charge(cost);
    return value;
  };
  const float = (value: number): PyValue => (options.boxFloats ? made(new PyFloat(value)) : value);
  let stack: PyValue[] = [];
  const metastack: PyValue[][] = [];
  const memo = new Map<number, PyValue>();

  // A function, not `stack.push(…)`: the argument may call popMark(), which replaces `stack`.
  const push = (value: PyValue): void => {
    stack.push(value);
  };
  // A PyValue is never undefined, so an undefined element means an empty stack.
  const pop = (): PyValue => {
    const value = stack.pop();
    if (value === undefined) throw new PickleFault(`pickle stack underflow at byte ${r.pos - 1}`, 'CORRUPT');
    return value;
  };
  const top = (): PyValue => {
    const value = stack.at(-1);
    if (value === undefined) throw new PickleFault(`pickle stack underflow at byte ${r.pos - 1}`, 'CORRUPT');
    return value;
  };
  const popMark = (): PyValue[] => {
    const items = stack;
    const previous = metastack.pop();
    if (previous === undefined)
      throw new PickleFault(`pickle uses a MARK that was never set (byte ${r.pos - 1})`, 'CORRUPT');
    stack = previous;
    return items;
  };
  const memoPut = (index: number, value: PyValue): void => {
    if (!memo.has(index)) charge(MEMO_ENTRY_COST);
    memo.set(index, value);
  };
  const memoGet = (index: number): PyValue => {
    const value = memo.get(index);
    if (value === undefined) throw new PickleFault(`pickle memo entry ${index} is missing`, 'CORRUPT');
    return value;
  };
  const setItem = (target: PyValue, key: PyValue, value: PyValue): void => {
    if (!(target instanceof PyDict)) throw new PickleFault(`pickle sets an item on a ${pyTypeName(target)}`, 'CORRUPT');
    try {
      charge(DICT_ENTRY_COST + target.set(key, value));
    } catch (err) {
      if (err instanceof UnhashableKeyError) throw new PickleFault(err.message, 'CORRUPT');
      throw err;
    }
  };
  const appendTo = (target: PyValue, values: PyValue[]): void => {
    if (!Array.isArray(target)) throw new PickleFault(`pickle appends to a ${pyTypeName(target)}`, 'CORRUPT');
    for (const v of values) target.push(v);
  };
  const addToSet = (target: PySet, values: PyValue[]): void => {
    for (const v of values) {
      try {
        charge(DICT_ENTRY_COST + hashKey(v).length);
      } catch (err) {
        if (err instanceof UnhashableKeyError) throw new PickleFault(err.message, 'CORRUPT');
        throw err;
      }
      target.items.push(v);
    }
  };
  // An OrderedDict or a tensor description: charged as a dict, the larger of the two.
  const call = (fn: PyValue, args: readonly PyValue[], what: string): PyValue =>
    made(callableOf(fn, what).call(args), DICT_COST);

  for (;;) {
    if (r.done) throw new PickleFault('pickle ends without STOP: the file is truncated', 'CORRUPT');
    const code = r.u8();
    switch (code) {
      case op.PROTO: {
        const proto = r.u8();
        if (proto > HIGHEST_PROTOCOL)
          throw new PickleFault(`pickle protocol ${proto} is newer than ${HIGHEST_PROTOCOL}`, 'UNSUPPORTED');
        break;
      }
      case op.FRAME:
        r.u64(); // framing only groups opcodes; the content is read as usual
        break;
      case op.STOP:
        return pop();
      case op.MARK:
        metastack.push(stack);
        stack = [];
        break;
      case op.POP:
        if (stack.length > 0) stack.pop();
        else popMark();
        break;
      case op.POP_MARK:
        popMark();
        break;
      case op.DUP:
        push(top());
        break;
      case op.NONE:
        push(null);
        break;
      case op.NEWTRUE:
        push(true);
        break;
      case op.NEWFALSE:
        push(false);
        break;
      case op.BININT:
        push(r.i32());
        break;
      case op.BININT1:
        push(r.u8());
        break;
      case op.BININT2:
        push(r.u16());
        break;
      case op.LONG1:
        push(decodeLong(r.take(r.u8())));
        break;
      case op.LONG4: {
        const n = r.i32();
        if (n > MAX_LONG_BYTES)
          throw new PickleFault(`pickle integer of ${n} bytes exceeds the ${MAX_LONG_BYTES}-byte limit`, 'UNSUPPORTED');
        push(decodeLong(r.take(n)));
        break;
      }
      case op.INT: {
        const text = r.line();
        push(text === '01' ? true : text === '00' ? false : parseTextInt(text));
        break;
      }
      case op.LONG:
        push(parseTextInt(r.line()));
        break;
      case op.FLOAT: {
        const text = r.line();
        const value = Number(text);
        if (Number.isNaN(value) && !/nan/i.test(text)) {
          throw new PickleFault(`malformed pickle float '${shortText(text)}'`, 'CORRUPT');
        }
        push(float(value));
        break;
      }
      case op.BINFLOAT:
        push(float(r.f64be()));
        break;
      case op.SHORT_BINUNICODE:
        push(decodeText(r.take(r.u8())));
        break;
      case op.BINUNICODE:
        push(decodeText(r.take(r.u32())));
        break;
      case op.BINUNICODE8:
        push(decodeText(r.take(r.u64())));
        break;
      // Python 2 strings: torch.load decodes them as UTF-8 (its default `encoding`).
      case op.SHORT_BINSTRING:
        push(decodeText(r.take(r.u8())));
        break;
      case op.BINSTRING:
        push(decodeText(r.take(r.i32())));
        break;
      case op.SHORT_BINBYTES:
        push(r.take(r.u8()).slice());
        break;
      case op.BINBYTES:
        push(r.take(r.u32()).slice());
        break;
      case op.BINBYTES8:
      case op.BYTEARRAY8:
        push(r.take(r.u64()).slice());
        break;
      case op.EMPTY_TUPLE:
        push(made(new PyTuple([])));
        break;
      case op.TUPLE1: {
        const a = pop();
        push(made(new PyTuple([a])));
        break;
      }
      case op.TUPLE2: {
        const b = pop();
        const a = pop();
        push(made(new PyTuple([a, b])));
        break;
      }
      case op.TUPLE3: {
        const c = pop();
        const b = pop();
        const a = pop();
        push(made(new PyTuple([a, b, c])));
        break;
      }
      case op.TUPLE:
        push(made(new PyTuple(popMark())));
        break;
      case op.EMPTY_LIST:
        push(made([]));
        break;
      case op.LIST:
        push(made(popMark()));
        break;
      case op.APPEND: {
        const value = pop();
        appendTo(top(), [value]);
        break;
      }
      case op.APPENDS: {
        const values = popMark();
        appendTo(top(), values);
        break;
      }
      case op.EMPTY_DICT:
        push(made(new PyDict(false), DICT_COST));
        break;
      case op.DICT: {
        const items = popMark();
        const dict = made(new PyDict(false), DICT_COST);
        // i + 1 < items.length.
        for (let i = 0; i + 1 < items.length; i += 2) setItem(dict, items[i]!, items[i + 1]!);
        push(dict);
        break;
      }
      case op.SETITEM: {
        const value = pop();
        const key = pop();
        setItem(top(), key, value);
        break;
      }
      case op.SETITEMS: {
        const items = popMark();
        if (items.length % 2 !== 0) throw new PickleFault('pickle SETITEMS has an odd number of items', 'CORRUPT');
        const target = top();
        // items.length is even, so i < items.length means i + 1 < items.length.
        for (let i = 0; i < items.length; i += 2) setItem(target, items[i]!, items[i + 1]!);
        break;
      }
      case op.EMPTY_SET:
        push(made(new PySet('set')));
        break;
      case op.ADDITEMS: {
        const items = popMark();
        const target = top();
        if (!(target instanceof PySet) || target.pyType !== 'set')
          throw new PickleFault(`pickle adds set items to a ${pyTypeName(target)}`, 'CORRUPT');
        addToSet(target, items);
        break;
      }
      case op.FROZENSET: {
        const set = made(new PySet('frozenset'));
        addToSet(set, popMark());
        push(set);
        break;
      }
      case op.BINPUT:
        memoPut(r.u8(), top());
        break;
      case op.LONG_BINPUT:
        memoPut(r.u32(), top());
        break;
      case op.PUT:
        memoPut(Number(parseTextInt(r.line())), top());
        break;
      case op.MEMOIZE:
        memoPut(memo.size, top());
        break;
      case op.BINGET:
        push(memoGet(r.u8()));
        break;
      case op.LONG_BINGET:
        push(memoGet(r.u32()));
        break;
      case op.GET:
        push(memoGet(Number(parseTextInt(r.line()))));
        break;
      case op.GLOBAL: {
        const module = r.line();
        const name = r.line();
        push(hooks.findGlobal(module, name));
        break;
      }
      case op.STACK_GLOBAL: {
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') {
          throw new PickleFault('pickle STACK_GLOBAL needs two strings', 'CORRUPT');
        }
        push(hooks.findGlobal(module, name));
        break;
      }
      case op.INST: {
        const module = r.line();
        const name = r.line();
        const fn = hooks.findGlobal(module, name);
        push(call(fn, popMark(), 'instantiates'));
        break;
      }
      case op.OBJ: {
        const [cls, ...args] = popMark();
        if (cls === undefined) throw new PickleFault('pickle OBJ without a class', 'CORRUPT');
        push(call(cls, args, 'instantiates'));
        break;
      }
      case op.REDUCE: {
        const args = argsOf(pop());
        const fn = pop();
        push(call(fn, args, 'calls'));
        break;
      }
      case op.NEWOBJ: {
        const args = argsOf(pop());
        const cls = pop();
        push(call(cls, args, 'instantiates'));
        break;
      }
      case op.NEWOBJ_EX: {
        const kwargs = pop();
        const args = argsOf(pop());
        const cls = pop();
        if (!(kwargs instanceof PyDict) || kwargs.size > 0) {
          throw new PickleFault('pickle NEWOBJ_EX with keyword arguments is not supported', 'UNSUPPORTED');
        }
        push(call(cls, args, 'instantiates'));
        break;
      }
      case op.BUILD: {
        const state = pop();
        build(top(), state);
        break;
      }
      case op.BINPERSID:
        push(made(hooks.persistentLoad(pop())));
        break;
      case op.PERSID:
        push(made(hooks.persistentLoad(r.line())));
        break;
      case op.EXT1:
      case op.EXT2:
      case op.EXT4: {
        const ext = code === op.EXT1 ? r.u8() : code === op.EXT2 ? r.u16() : r.i32();
        throw new PickleFault(`pickle uses copyreg extension code ${ext}, which names an arbitrary global`, 'UNSAFE');
      }
      case op.STRING:
      case op.UNICODE:
        throw new PickleFault(
          `pickle opcode ${opName(code)} (protocol 0 text strings) is not supported; re-save with torch.save`,
          'UNSUPPORTED',
        );
      case op.NEXT_BUFFER:
      case op.READONLY_BUFFER:
        throw new PickleFault(
          'pickle uses out-of-band buffers (protocol 5), which torch.save never writes',
          'UNSUPPORTED',
        );
      default:
        throw new PickleFault(
          `unknown pickle opcode 0x${code.toString(16).padStart(2, '0')} at byte ${r.pos - 1}`,
          'CORRUPT',
        );
    }
  }
}

/**
 * BUILD (`__setstate__`): the only one a state dict needs is `OrderedDict.__dict__.update({'_metadata': …})`.
 * Anything else would mean calling some class's `__setstate__`, which this reader never does, except the inert ones
 * an allowlist built itself (PyStateful).
 */
function build(target: PyValue, state: PyValue): void {
  // An allowlisted object with its own setstate (numpy.dtype) checks the state itself.
  if (target instanceof PyStateful) {
    target.setState(state);
    return;
  }
  if (!(target instanceof PyDict) || target.pyType !== 'collections.OrderedDict') {
    throw new PickleFault(
      `pickle BUILD (setstate) on a ${pyTypeName(target)}; only an OrderedDict's attributes may be set`,
      'UNSAFE',
    );
  }
  let dictState: PyValue = state;
  let slotState: PyValue = null;
  if (state instanceof PyTuple && state.items.length === 2) [dictState, slotState] = state.items as [PyValue, PyValue];
  for (const part of [dictState, slotState]) {
    if (part === null) continue;
    if (!(part instanceof PyDict))
      throw new PickleFault(`pickle BUILD state is a ${pyTypeName(part)}, not a dict`, 'CORRUPT');
    for (const [key, value] of part.items()) {
      if (typeof key !== 'string')
        throw new PickleFault(`pickle BUILD attribute name is a ${pyTypeName(key)}`, 'CORRUPT');
      target.attributes.set(key, value);
    }
  }
}

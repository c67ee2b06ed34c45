import { fileError } from '../errors';
import { NumpyDtype } from './numpyScalars';
import { PyDict, PyFloat, PySet, PyTuple, pyTypeName, shortText, type PyValue } from './pythonValues';
import { TensorRef } from './torchGlobals';

/**
 * What the unpickled object means: a BEATs-style checkpoint dict (`cfg`, `model`, `label_dict`) or a bare state
 * dict, with cfg and label_dict turned into plain JSON-like values. Tensors stay descriptions (TensorRef) here.
 */
export interface TopLevel {
  cfg: Record<string, unknown>;
  /** Top-level cfg keys whose Python value was a float (JS numbers cannot tell 2.0 from 2). */
  cfgFloatKeys: string[];
  labelDict?: Record<string, unknown>;
  model: Map<string, TensorRef>;
  extraKeys: string[];
  layout: 'checkpoint' | 'state-dict';
}

const MAX_NESTING = 64;
/** Values visited when converting cfg/label_dict: memo references can make a small pickle a huge (DAG) tree. */
const MAX_PLAIN_VALUES = 1_000_000;

export function interpretTopLevel(file: string, root: PyValue): TopLevel {
  const expected = "a dict with 'cfg' and 'model' (a BEATs checkpoint), or a state dict of tensors";
  if (!(root instanceof PyDict)) {
    const problem = `holds a ${pyTypeName(root)} at the top level; expected ${expected}`;
    throw fileError(file, problem, 'BAD_INPUT', { expected });
  }
  const model = root.get('model');
  if (model !== undefined) {
    if (!(model instanceof PyDict)) {
      const problem = `'model' is a ${pyTypeName(model)}, expected a state dict`;
      throw fileError(file, problem, 'BAD_INPUT', { field: 'model' });
    }
    const cfg = root.get('cfg');
    const labelDict = root.get('label_dict');
    const known = new Set(['cfg', 'model', 'label_dict']);
    const extraKeys = [...root.items()].flatMap(([k]) => (typeof k === 'string' && known.has(k) ? [] : [keyText(k)]));
    return {
      cfg: cfg === undefined ? {} : plainRecord(file, cfg, 'cfg'),
      cfgFloatKeys: cfg instanceof PyDict ? floatKeys(cfg) : [],
      ...(labelDict !== undefined ? { labelDict: plainRecord(file, labelDict, 'label_dict') } : {}),
      model: stateDict(file, model, 'model'),
      extraKeys,
      layout: 'checkpoint',
    };
  }
  const values = [...root.items()];
  if (values.length > 0 && values.every(([, v]) => v instanceof TensorRef)) {
    return { cfg: {}, cfgFloatKeys: [], model: stateDict(file, root, ''), extraKeys: [], layout: 'state-dict' };
  }
  const keys = `[${values
    .slice(0, 10)
    .map(([k]) => keyText(k))
    .join(', ')}${values.length > 10 ? ', …' : ''}]`;
  throw fileError(file, `top-level dict has keys ${keys}; expected ${expected}`, 'BAD_INPUT', { expected });
}

function floatKeys(cfg: PyDict): string[] {
  return [...cfg.items()].flatMap(([k, v]) => (typeof k === 'string' && v instanceof PyFloat ? [k] : []));
}

function stateDict(file: string, dict: PyDict, field: string): Map<string, TensorRef> {
  const out = new Map<string, TensorRef>();
  for (const [key, value] of dict.items()) {
    const where = field ? `${field}.${keyText(key)}` : keyText(key);
    if (typeof key !== 'string') {
      const problem = `state dict key ${where} is a ${pyTypeName(key)}, expected a string`;
      throw fileError(file, problem, 'BAD_INPUT', { field: where });
    }
    if (!(value instanceof TensorRef)) {
      const problem = `state dict entry ${where} is a ${pyTypeName(value)}, not a tensor`;
      throw fileError(file, problem, 'BAD_INPUT', { field: where });
    }
    out.set(key, value);
  }
  return out;
}

/** A dict key as a message shows it: strings and numbers as they are (cut short), anything else by its type. */
function keyText(key: PyValue): string {
  if (typeof key === 'string') return shortText(key);
  if (typeof key === 'number' || typeof key === 'bigint' || typeof key === 'boolean' || key === null) {
    return shortText(String(key));
  }
  if (key instanceof PyFloat) return String(key.value);
  return `<${pyTypeName(key)}>`;
}

function plainRecord(file: string, value: PyValue, field: string): Record<string, unknown> {
  if (!(value instanceof PyDict)) {
    throw fileError(file, `'${field}' is a ${pyTypeName(value)}, expected a dict`, 'BAD_INPUT', { field });
  }
  return plainValue(file, value, field, 0, { left: MAX_PLAIN_VALUES }) as Record<string, unknown>;
}

const bigintAsText = (_: string, x: unknown): unknown => (typeof x === 'bigint' ? x.toString() : x);

/** Python data → JSON-like JS values; anything that is not plain data (a tensor, a type) is an error naming where. */
function plainValue(file: string, value: PyValue, where: string, depth: number, budget: { left: number }): unknown {
  if (depth > MAX_NESTING) {
    const problem = `${where} is nested more than ${MAX_NESTING} levels deep (or contains itself)`;
    throw fileError(file, problem, 'BAD_INPUT', { field: where });
  }
  if (--budget.left < 0) {
    const problem = `${where}: more than ${MAX_PLAIN_VALUES} values; expected a small config`;
    throw fileError(file, problem, 'BAD_INPUT', { field: where });
  }
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return value;
  if (value instanceof PyFloat) return value.value;
  // A dtype on its own (cfg {'dtype': np.dtype('int64')}) is data naming a type: read as numpy's name for it.
  if (value instanceof NumpyDtype) return value.type.name;
  const item = (v: PyValue, at: string): unknown => plainValue(file, v, at, depth + 1, budget);
  if (Array.isArray(value)) return value.map((v, i) => item(v, `${where}[${i}]`));
  if (value instanceof PyTuple) return value.items.map((v, i) => item(v, `${where}[${i}]`));
  if (value instanceof PySet) return value.items.map((v, i) => item(v, `${where}{${i}}`));
  if (value instanceof PyDict) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of value.items()) {
      const name = typeof k === 'string' ? k : JSON.stringify(item(k, `${where} key`), bigintAsText);
      // defineProperty: a key such as '__proto__' becomes an ordinary own property
      const plain = item(v, `${where}.${shortText(name)}`);
      Object.defineProperty(out, name, { value: plain, enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  const what = value instanceof TensorRef ? 'tensor' : value.pyType;
  const problem = `${where} holds a ${what}, expected plain data (numbers, strings, lists, dicts)`;
  throw fileError(file, problem, 'BAD_INPUT', { field: where });
}

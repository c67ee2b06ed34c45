import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { fileError, GenrepError } from '../errors';
import { sniffCheckpointFormat, SNIFF_BYTES } from './fileFormat';
import { PickleFault, unpickle } from './pickle';
import { PyDict, PyObject, PySet, PyTuple, pyTypeName, type PyValue } from './pythonValues';
import { storageToFloat32 } from './storageConvert';
import { elementCount, gatherView, isContiguous, viewExtent } from './tensorView';
import { ITEM_SIZE, type StorageDtype, StorageRef, TensorRef, torchUnpickleHooks } from './torchGlobals';
import { ZipArchive } from './zipArchive';

/**
 * Reads a PyTorch checkpoint (`torch.save`'s zip format: `<name>/data.pkl` + raw storages in `<name>/data/<key>`)
 * into named float32 tensors, without Python and without running anything the file asks for: the pickle goes
 * through a restricted unpickler that knows only the globals a state dict needs (see torchGlobals.ts).
 */

/** Contiguous C-order float32; views are materialised, other dtypes converted. */
export interface Tensor {
  shape: number[];
  data: Float32Array;
}

export interface Checkpoint {
  file: string;
  /** The checkpoint's `cfg` as plain JSON-like values (ints beyond ±2^53 as bigint); {} when the file has none. */
  cfg: Record<string, unknown>;
  /** The state dict, in file order. */
  tensors: Map<string, Tensor>;
  /** `label_dict` (fine-tuned BEATs: class index → AudioSet label id), keys as strings. */
  labelDict?: Record<string, unknown>;
  /** Hex SHA-256 of the whole file, when asked for (`{ sha256: true }`). */
  sha256?: string;
  /** Top-level keys besides cfg, model and label_dict. */
  extraKeys: string[];
  /** 'checkpoint': a dict with `model` (and normally `cfg`); 'state-dict': the file is a bare state dict, cfg is {}. */
  layout: 'checkpoint' | 'state-dict';
  /** The dtype each tensor was stored with, before conversion to float32. */
  storedDtypes: Map<string, StorageDtype>;
}

export interface ReadCheckpointOptions {
  /** Also hash the file (one more sequential read). */
  sha256?: boolean;
  /** Largest zip entry (one storage) accepted; default 4 GiB. */
  maxEntryBytes?: number;
  /** Called after each storage is read: bytes of storage data read so far, and in all. */
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
}

export const DEFAULT_MAX_ENTRY_BYTES = 4 * 2 ** 30;
/** A state dict's pickle is ~100 bytes per tensor; BEATs' is ~30 KB. */
const MAX_PICKLE_BYTES = 64 * 2 ** 20;
const MAX_NESTING = 64;
/** Values visited when converting cfg/label_dict: memo references can make a small pickle a huge (DAG) tree. */
const MAX_PLAIN_VALUES = 1_000_000;

export async function readCheckpoint(file: string, options: ReadCheckpointOptions = {}): Promise<Checkpoint> {
  const maxEntryBytes = options.maxEntryBytes ?? DEFAULT_MAX_ENTRY_BYTES;
  const handle = await openCheckpointFile(file);
  let result: Omit<Checkpoint, 'sha256'>;
  try {
    const stats = await handle.stat();
    const size = stats.size;
    if (stats.isDirectory()) throw fileError(file, 'is a directory, expected a .pt checkpoint');
    if (!stats.isFile()) throw fileError(file, 'is not a regular file, expected a .pt checkpoint');
    await checkFormat(file, handle, size);
    const zip = await ZipArchive.open(file, handle, size, { maxEntryBytes });
    try {
      result = await readArchive(file, zip, maxEntryBytes, options.onProgress);
    } finally {
      zip.close();
    }
  } finally {
    await handle.close();
  }
  return options.sha256 ? { ...result, sha256: await sha256File(file) } : result;
}

async function openCheckpointFile(file: string): Promise<FileHandle> {
  try {
    return await open(file, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw fileError(file, 'no such file', 'NOT_FOUND');
    if (code === 'EISDIR') throw fileError(file, 'is a directory, expected a .pt checkpoint');
    throw err;
  }
}

async function checkFormat(file: string, handle: FileHandle, size: number): Promise<void> {
  const head = Buffer.alloc(Math.min(SNIFF_BYTES, size));
  if (head.length > 0) await handle.read(head, 0, head.length, 0);
  switch (sniffCheckpointFormat(head)) {
    case 'zip':
      return;
    case 'empty':
      throw fileError(file, 'is empty (0 bytes): the download or copy failed; fetch or save the checkpoint again', 'CORRUPT');
    case 'legacy-pickle':
    case 'legacy-tar':
      throw fileError(
        file,
        'legacy (non-zip) PyTorch format: re-save with torch.save(obj, path) in torch >= 1.6 ' +
          '(obj = torch.load(path); torch.save(obj, new_path)), then use the new file',
        'UNSUPPORTED',
        { expected: 'torch.save zip format (torch >= 1.6)' },
      );
    case 'unknown':
      throw fileError(
        file,
        'is not a PyTorch checkpoint: neither a zip archive (torch.save since 1.6) nor the legacy format; check the path, or fetch the file again if it was truncated',
        'BAD_INPUT',
        { expected: 'a .pt file written by torch.save' },
      );
  }
}

/** The record directory `<name>/` that holds data.pkl (torch names it after the file it first saved to). */
function recordPrefix(file: string, zip: ZipArchive): string {
  const names = [...zip.entries.keys()];
  const pickles = names.filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  const torchScript = names.some((n) => /^[^/]+\/(constants\.pkl|code\/)/.test(n));
  if (torchScript) {
    throw fileError(
      file,
      'is a TorchScript archive (torch.jit.save), not a torch.save checkpoint; save the model\'s state dict with torch.save instead',
      'UNSUPPORTED',
    );
  }
  if (pickles.length !== 1) {
    throw fileError(
      file,
      pickles.length === 0
        ? 'is a zip archive without a <name>/data.pkl record: not a torch.save checkpoint'
        : `holds ${pickles.length} data.pkl records (${pickles.join(', ')}); a torch.save checkpoint has one`,
      'BAD_INPUT',
      { expected: 'a .pt file written by torch.save' },
    );
  }
  return pickles[0]!.slice(0, -'data.pkl'.length);
}

async function isBigEndian(file: string, zip: ZipArchive, prefix: string): Promise<boolean> {
  const name = `${prefix}byteorder`;
  const info = zip.entries.get(name);
  if (!info) return false; // written since torch 2.0; older files are little-endian
  if (info.uncompressedSize > 16) throw fileError(file, `${name} is ${info.uncompressedSize} bytes, expected 'little' or 'big'`, 'CORRUPT', { field: name });
  const text = (await zip.read(name)).toString('latin1').trim();
  if (text !== 'little' && text !== 'big') throw fileError(file, `${name} says '${text}', expected 'little' or 'big'`, 'CORRUPT', { field: name });
  return text === 'big';
}

async function readArchive(
  file: string,
  zip: ZipArchive,
  maxEntryBytes: number,
  onProgress: ReadCheckpointOptions['onProgress'],
): Promise<Omit<Checkpoint, 'sha256'>> {
  const prefix = recordPrefix(file, zip);
  const bigEndian = await isBigEndian(file, zip, prefix);
  const pickleName = `${prefix}data.pkl`;
  const pickleSize = zip.entries.get(pickleName)!.uncompressedSize;
  if (pickleSize > MAX_PICKLE_BYTES) {
    throw fileError(file, `${pickleName} is ${pickleSize} bytes, above the ${MAX_PICKLE_BYTES}-byte limit for a state dict's pickle`, 'UNSAFE', {
      field: pickleName,
    });
  }
  const { hooks } = torchUnpickleHooks();
  let root: PyValue;
  try {
    root = unpickle(await zip.read(pickleName), hooks);
  } catch (err) {
    if (err instanceof PickleFault) throw fileError(file, `${pickleName}: ${err.message}`, err.code, { field: pickleName });
    throw err;
  }
  const top = interpretTopLevel(file, root);
  const tensors = await loadTensors(file, zip, prefix, top.model, bigEndian, maxEntryBytes, onProgress);
  return {
    file,
    cfg: top.cfg,
    tensors: tensors.tensors,
    ...(top.labelDict !== undefined ? { labelDict: top.labelDict } : {}),
    extraKeys: top.extraKeys,
    layout: top.layout,
    storedDtypes: tensors.dtypes,
  };
}

interface TopLevel {
  cfg: Record<string, unknown>;
  labelDict?: Record<string, unknown>;
  model: Map<string, TensorRef>;
  extraKeys: string[];
  layout: Checkpoint['layout'];
}

function interpretTopLevel(file: string, root: PyValue): TopLevel {
  const expected = "a dict with 'cfg' and 'model' (a BEATs checkpoint), or a state dict of tensors";
  if (!(root instanceof PyDict)) {
    throw fileError(file, `holds a ${pyTypeName(root)} at the top level; expected ${expected}`, 'BAD_INPUT', { expected });
  }
  const model = root.get('model');
  if (model !== undefined) {
    if (!(model instanceof PyDict)) throw fileError(file, `'model' is a ${pyTypeName(model)}, expected a state dict`, 'BAD_INPUT', { field: 'model' });
    const cfg = root.get('cfg');
    const labelDict = root.get('label_dict');
    const extraKeys = [...root.items()].map(([k]) => k).filter((k) => k !== 'cfg' && k !== 'model' && k !== 'label_dict').map(keyText);
    return {
      cfg: cfg === undefined ? {} : plainRecord(file, cfg, 'cfg'),
      ...(labelDict !== undefined ? { labelDict: plainRecord(file, labelDict, 'label_dict') } : {}),
      model: stateDict(file, model, 'model'),
      extraKeys,
      layout: 'checkpoint',
    };
  }
  const values = [...root.items()];
  if (values.length > 0 && values.every(([, v]) => v instanceof TensorRef)) {
    return { cfg: {}, model: stateDict(file, root, ''), extraKeys: [], layout: 'state-dict' };
  }
  const keys = values.slice(0, 10).map(([k]) => keyText(k));
  throw fileError(file, `top-level dict has keys [${keys.join(', ')}${values.length > 10 ? ', …' : ''}]; expected ${expected}`, 'BAD_INPUT', {
    expected,
  });
}

function stateDict(file: string, dict: PyDict, field: string): Map<string, TensorRef> {
  const out = new Map<string, TensorRef>();
  for (const [key, value] of dict.items()) {
    const where = field ? `${field}.${keyText(key)}` : keyText(key);
    if (typeof key !== 'string') throw fileError(file, `state dict key ${where} is a ${pyTypeName(key)}, expected a string`, 'BAD_INPUT', { field: where });
    if (!(value instanceof TensorRef)) {
      throw fileError(file, `state dict entry ${where} is a ${pyTypeName(value)}, not a tensor`, 'BAD_INPUT', { field: where });
    }
    out.set(key, value);
  }
  return out;
}

function keyText(key: PyValue): string {
  return typeof key === 'string' ? key : String(plainValue('<key>', key, '', 0, { left: MAX_PLAIN_VALUES }));
}

function plainRecord(file: string, value: PyValue, field: string): Record<string, unknown> {
  if (!(value instanceof PyDict)) throw fileError(file, `'${field}' is a ${pyTypeName(value)}, expected a dict`, 'BAD_INPUT', { field });
  return plainValue(file, value, field, 0, { left: MAX_PLAIN_VALUES }) as Record<string, unknown>;
}

/** Python data → JSON-like JS values; anything that is not plain data (a tensor, a type) is an error naming where. */
function plainValue(file: string, value: PyValue, where: string, depth: number, budget: { left: number }): unknown {
  if (depth > MAX_NESTING) {
    throw fileError(file, `${where} is nested more than ${MAX_NESTING} levels deep (or contains itself)`, 'BAD_INPUT', { field: where });
  }
  if (--budget.left < 0) throw fileError(file, `${where}: more than ${MAX_PLAIN_VALUES} values; expected a small config`, 'BAD_INPUT', { field: where });
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return value;
  if (Array.isArray(value)) return value.map((v, i) => plainValue(file, v, `${where}[${i}]`, depth + 1, budget));
  if (value instanceof PyTuple) return value.items.map((v, i) => plainValue(file, v, `${where}[${i}]`, depth + 1, budget));
  if (value instanceof PySet) return value.items.map((v, i) => plainValue(file, v, `${where}{${i}}`, depth + 1, budget));
  if (value instanceof PyDict) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of value.items()) {
      const name = typeof k === 'string' ? k : JSON.stringify(plainValue(file, k, `${where} key`, depth + 1, budget), (_, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
      // defineProperty: a key such as '__proto__' becomes an ordinary own property
      Object.defineProperty(out, name, { value: plainValue(file, v, `${where}.${name}`, depth + 1, budget), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  const what = value instanceof TensorRef ? 'tensor' : (value as PyObject).pyType;
  throw fileError(file, `${where} holds a ${what}, expected plain data (numbers, strings, lists, dicts)`, 'BAD_INPUT', { field: where });
}

async function loadTensors(
  file: string,
  zip: ZipArchive,
  prefix: string,
  model: Map<string, TensorRef>,
  bigEndian: boolean,
  maxEntryBytes: number,
  onProgress: ReadCheckpointOptions['onProgress'],
): Promise<{ tensors: Map<string, Tensor>; dtypes: Map<string, StorageDtype> }> {
  // Check every view against its storage before reading any data, so a bad file fails fast.
  const users = new Map<StorageRef, string[]>();
  for (const [key, t] of model) {
    const { storage } = t;
    const dtype = storage.type.dtype;
    if (dtype === undefined) {
      throw fileError(file, `tensor ${key} is stored as ${storage.type.dtypeName} (torch.${storage.type.name}), which cannot be converted to float32`, 'UNSUPPORTED', {
        field: key,
        expected: 'float32, float16, bfloat16, float64 or integer storage',
      });
    }
    const count = elementCount(t.size);
    if (count * 4 > maxEntryBytes) {
      throw fileError(file, `tensor ${key} has ${count} elements, more than the ${maxEntryBytes}-byte limit allows`, 'UNSAFE', { field: key });
    }
    const extent = viewExtent(t.storageOffset, t.size, t.stride);
    if (extent > storage.numel) {
      throw fileError(
        file,
        `tensor ${key} (shape [${t.size.join(', ')}], storage offset ${t.storageOffset}, stride [${t.stride.join(', ')}]) needs ${extent} elements of storage ${storage.key}, which holds only ${storage.numel}`,
        'CORRUPT',
        { field: key },
      );
    }
    const entryName = `${prefix}data/${storage.key}`;
    if (!zip.entries.has(entryName)) throw fileError(file, `storage ${entryName} of tensor ${key} is missing from the archive`, 'CORRUPT', { field: key });
    const list = users.get(storage);
    if (list) list.push(key);
    else users.set(storage, [key]);
  }

  // Read storages in file order (sequential I/O), materialise their tensors, and let each storage go.
  const storages = [...users.keys()].sort(
    (a, b) => zip.entries.get(`${prefix}data/${a.key}`)!.entry.relativeOffsetOfLocalHeader - zip.entries.get(`${prefix}data/${b.key}`)!.entry.relativeOffsetOfLocalHeader,
  );
  const bytesTotal = storages.reduce((sum, s) => sum + s.numel * ITEM_SIZE[s.type.dtype!], 0);
  let bytesDone = 0;
  const materialised = new Map<string, Tensor>();
  for (const storage of storages) {
    const dtype = storage.type.dtype!;
    const expectedBytes = storage.numel * ITEM_SIZE[dtype];
    const bytes = await zip.read(`${prefix}data/${storage.key}`, expectedBytes);
    const values = storageToFloat32(bytes, dtype, bigEndian);
    const keys = users.get(storage)!;
    for (const key of keys) {
      const t = model.get(key)!;
      // The storage array itself serves a tensor that is its sole, whole, contiguous view; others get copies,
      // so no two tensors ever share memory.
      const whole = keys.length === 1 && t.storageOffset === 0 && elementCount(t.size) === storage.numel && isContiguous(t.size, t.stride);
      materialised.set(key, { shape: [...t.size], data: whole ? values : gatherView(values, t.storageOffset, t.size, t.stride) });
    }
    bytesDone += expectedBytes;
    onProgress?.(bytesDone, bytesTotal);
  }

  const tensors = new Map<string, Tensor>();
  const dtypes = new Map<string, StorageDtype>();
  for (const [key, t] of model) {
    tensors.set(key, materialised.get(key)!);
    dtypes.set(key, t.storage.type.dtype!);
  }
  return { tensors, dtypes };
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  } catch (err) {
    throw err instanceof GenrepError ? err : fileError(file, `could not be read for hashing (${(err as Error).message})`, 'INTERNAL');
  }
  return hash.digest('hex');
}

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { fileError, GenrepError } from '../errors';
import { fsError } from '../io/fsErrors';
import { sniffCheckpointFormat, SNIFF_BYTES } from './fileFormat';
import { PickleFault, unpickle } from './pickle';
import { type PyValue } from './pythonValues';
import { storageToFloat32 } from './storageConvert';
import { isWholeView, planTensors, type TensorPlan } from './tensorPlan';
import { gatherView } from './tensorView';
import { interpretTopLevel, type TopLevel } from './topLevel';
import { type StorageDtype, torchUnpickleHooks } from './torchGlobals';
import { ZipArchive } from './zipArchive';

/**
 * Reads a PyTorch checkpoint (`torch.save`'s zip format: `<name>/data.pkl` + raw storages in `<name>/data/<key>`)
 * into named float32 tensors, without Python and without running anything the file asks for: the pickle goes
 * through a restricted unpickler that knows only the globals a state dict needs (see torchGlobals.ts).
 *
 * Nothing is sized from the file before it is checked. The pickle yields tensor descriptions only; the caller's
 * architecture (when given) checks cfg, keys and shapes; every view is checked against its storage and every storage
 * against its zip entry; and the memory all tensors will take is compared with a budget. Only then is tensor data
 * read.
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
  /** Top-level cfg keys whose Python value was a float: `2.0` reads as 2 in `cfg`; an integer field refuses it. */
  cfgFloatKeys: string[];
}

/** What an architecture checks before any tensor data is read. */
export interface ArchitectureInput {
  cfg: Record<string, unknown>;
  cfgFloatKeys: ReadonlySet<string>;
  /** Every state-dict key with its declared shape, in file order. */
  shapes: ReadonlyMap<string, readonly number[]>;
  layout: Checkpoint['layout'];
}

/** A model the checkpoint must hold; the reader consults it after unpickling and before reading tensor data. */
export interface CheckpointArchitecture {
  /** Named in messages ('BEATs'). */
  name: string;
  /**
   * Throws a GenrepError naming the cfg field or state-dict key that does not fit; returns the float32 bytes of
   * the parameters the architecture defines for this cfg, which set the memory budget.
   */
  check(input: ArchitectureInput): { parameterBytes: number };
  /** Refuse stride-0 (expanded) views: no parameter of this model is one. */
  refuseExpandedViews?: boolean;
}

export interface ReadCheckpointOptions {
  /** Also hash the file (one more sequential read). */
  sha256?: boolean;
  /** Largest zip entry (one storage) accepted; default 4 GiB. */
  maxEntryBytes?: number;
  /** Called after each storage is read: bytes of storage data read so far, and in all. */
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
  /** The model the file must hold: its cfg, keys and shapes are checked before any tensor data is read. */
  architecture?: CheckpointArchitecture;
  /**
   * Most bytes the materialised tensors may take (storages, conversions, view copies). Default: $BUDGET_ENV MiB
   * when set, else ARCHITECTURE_BUDGET_FACTOR × the architecture's parameter bytes + ARCHITECTURE_BUDGET_MARGIN, else
   * DEFAULT_MAX_TOTAL_BYTES.
   */
  maxTotalBytes?: number;
}

export const DEFAULT_MAX_ENTRY_BYTES = 4 * 2 ** 30;
/** Budget for a checkpoint whose architecture the caller does not name; a full-size BEATs takes ~0.35 GiB. */
export const DEFAULT_MAX_TOTAL_BYTES = 2 ** 30;
/** Parameters stored as float64 need their bytes twice over plus the float32 conversion: 3×, and room for a head. */
export const ARCHITECTURE_BUDGET_FACTOR = 3;
export const ARCHITECTURE_BUDGET_MARGIN = 64 * 2 ** 20;
/** Environment variable that sets the tensor memory budget, in MiB. */
export const BUDGET_ENV = 'GENREP_CHECKPOINT_MAX_MB';
/** A state dict's pickle is ~100 bytes per tensor (BEATs' is ~30 KB): this allows some 80 000 tensors. */
const MAX_PICKLE_BYTES = 8 * 2 ** 20;

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
      result = await readArchive(file, zip, maxEntryBytes, options);
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
    throw fsError(err, file, { action: 'open', expected: 'a .pt checkpoint' });
  }
}

async function checkFormat(file: string, handle: FileHandle, size: number): Promise<void> {
  const head = Buffer.alloc(Math.min(SNIFF_BYTES, size));
  if (head.length > 0) await handle.read(head, 0, head.length, 0);
  switch (sniffCheckpointFormat(head)) {
    case 'zip':
      return;
    case 'empty':
      throw fileError(
        file,
        'is empty (0 bytes): the download or copy failed; fetch or save the checkpoint again',
        'CORRUPT',
      );
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
      "is a TorchScript archive (torch.jit.save), not a torch.save checkpoint; save the model's state dict with torch.save instead",
      'UNSUPPORTED',
    );
  }
  const [pickle, ...morePickles] = pickles;
  if (pickle === undefined || morePickles.length > 0) {
    throw fileError(
      file,
      pickles.length === 0
        ? 'is a zip archive without a <name>/data.pkl record: not a torch.save checkpoint'
        : `holds ${pickles.length} data.pkl records (${pickles.join(', ')}); a torch.save checkpoint has one`,
      'BAD_INPUT',
      { expected: 'a .pt file written by torch.save' },
    );
  }
  return pickle.slice(0, -'data.pkl'.length);
}

async function isBigEndian(file: string, zip: ZipArchive, prefix: string): Promise<boolean> {
  const name = `${prefix}byteorder`;
  const info = zip.entries.get(name);
  if (!info) return false; // written since torch 2.0; older files are little-endian
  if (info.uncompressedSize > 16)
    throw fileError(file, `${name} is ${info.uncompressedSize} bytes, expected 'little' or 'big'`, 'CORRUPT', {
      field: name,
    });
  const text = (await zip.read(name)).toString('latin1').trim();
  if (text !== 'little' && text !== 'big')
    throw fileError(file, `${name} says '${text}', expected 'little' or 'big'`, 'CORRUPT', { field: name });
  return text === 'big';
}

async function readArchive(
  file: string,
  zip: ZipArchive,
  maxEntryBytes: number,
  options: ReadCheckpointOptions,
): Promise<Omit<Checkpoint, 'sha256'>> {
  const prefix = recordPrefix(file, zip);
  const bigEndian = await isBigEndian(file, zip, prefix);
  const top = interpretTopLevel(file, await readPickle(file, zip, prefix));
  const { architecture } = options;
  const parameterBytes = architecture?.check({
    cfg: top.cfg,
    cfgFloatKeys: new Set(top.cfgFloatKeys),
    shapes: new Map([...top.model].map(([key, t]) => [key, t.size])),
    layout: top.layout,
  }).parameterBytes;
  const refuseExpandedViews = architecture?.refuseExpandedViews ?? false;
  const plan = planTensors(file, zip, prefix, top.model, { maxEntryBytes, refuseExpandedViews });
  checkBudget(file, plan, tensorBudget(options, parameterBytes));
  const tensors = await loadTensors(zip, top, plan, bigEndian, options.onProgress);
  return {
    file,
    cfg: top.cfg,
    tensors: tensors.tensors,
    ...(top.labelDict !== undefined ? { labelDict: top.labelDict } : {}),
    extraKeys: top.extraKeys,
    layout: top.layout,
    storedDtypes: tensors.dtypes,
    cfgFloatKeys: top.cfgFloatKeys,
  };
}

async function readPickle(file: string, zip: ZipArchive, prefix: string): Promise<PyValue> {
  const pickleName = `${prefix}data.pkl`;
  const pickleEntry = zip.entries.get(pickleName);
  // recordPrefix found the prefix from this very entry.
  if (pickleEntry === undefined) throw new GenrepError(`checkpoint reader: no ${pickleName} entry`, 'INTERNAL');
  const pickleSize = pickleEntry.uncompressedSize;
  if (pickleSize > MAX_PICKLE_BYTES) {
    throw fileError(
      file,
      `${pickleName} is ${pickleSize} bytes, above the ${MAX_PICKLE_BYTES}-byte limit for a state dict's pickle`,
      'UNSAFE',
      {
        field: pickleName,
      },
    );
  }
  const { hooks } = torchUnpickleHooks();
  try {
    return unpickle(await zip.read(pickleName), hooks, { boxFloats: true });
  } catch (err) {
    if (err instanceof PickleFault)
      throw fileError(file, `${pickleName}: ${err.message}`, err.code, { field: pickleName });
    throw err;
  }
}

interface Budget {
  bytes: number;
  /** Where the figure comes from, for the message. */
  source: string;
}

const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);

function tensorBudget(options: ReadCheckpointOptions, parameterBytes: number | undefined): Budget {
  if (options.maxTotalBytes !== undefined) return { bytes: options.maxTotalBytes, source: 'set by the caller' };
  const env = process.env[BUDGET_ENV];
  if (env !== undefined && env.trim() !== '') {
    const mb = Number(env);
    if (!Number.isFinite(mb) || mb <= 0) {
      throw new GenrepError(`${BUDGET_ENV}='${env}': expected a positive number of MiB`, 'BAD_INPUT', {
        field: BUDGET_ENV,
        expected: 'a positive number',
      });
    }
    return { bytes: mb * 2 ** 20, source: `set by ${BUDGET_ENV}` };
  }
  if (parameterBytes !== undefined && options.architecture) {
    return {
      bytes: ARCHITECTURE_BUDGET_FACTOR * parameterBytes + ARCHITECTURE_BUDGET_MARGIN,
      source:
        `${ARCHITECTURE_BUDGET_FACTOR} × the ${mib(parameterBytes)} MiB of parameters a ` +
        `${options.architecture.name} model with this cfg has, + ${mib(ARCHITECTURE_BUDGET_MARGIN)} MiB; ` +
        `set ${BUDGET_ENV} to change it`,
    };
  }
  return {
    bytes: DEFAULT_MAX_TOTAL_BYTES,
    source: `the default for a checkpoint of unknown architecture; set ${BUDGET_ENV} to change it`,
  };
}

function checkBudget(file: string, plan: TensorPlan, budget: Budget): void {
  if (plan.bytesNeeded <= budget.bytes) return;
  throw fileError(
    file,
    `its tensors would take ${mib(plan.bytesNeeded)} MiB in memory (${mib(plan.storageBytes)} MiB of storages, ` +
      `the rest conversions and copies of views), above the ${mib(budget.bytes)} MiB budget (${budget.source}); ` +
      'refusing to read them',
    'UNSAFE',
    { expected: `at most ${mib(budget.bytes)} MiB of tensors` },
  );
}

async function loadTensors(
  zip: ZipArchive,
  top: TopLevel,
  plan: TensorPlan,
  bigEndian: boolean,
  onProgress: ReadCheckpointOptions['onProgress'],
): Promise<{ tensors: Map<string, Tensor>; dtypes: Map<string, StorageDtype> }> {
  // Storages in file order (sequential I/O); each one's tensors are materialised and the storage let go.
  let bytesDone = 0;
  const materialised = new Map<string, Tensor>();
  for (const storage of plan.storages) {
    const bytes = await zip.read(storage.entry, storage.bytes);
    const values = storageToFloat32(bytes, storage.dtype, bigEndian);
    for (const { key, tensor: t } of storage.users) {
      // The storage array itself serves a tensor that is its sole, whole, contiguous view; others get copies,
      // so no two tensors ever share memory.
      const whole = isWholeView(t, storage.users.length);
      const data = whole ? values : gatherView(values, t.storageOffset, t.size, t.stride);
      materialised.set(key, { shape: [...t.size], data });
    }
    bytesDone += storage.bytes;
    onProgress?.(bytesDone, plan.storageBytes);
  }

  const tensors = new Map<string, Tensor>();
  const dtypes = new Map<string, StorageDtype>();
  for (const [key, t] of top.model) {
    // planTensors gave every tensor a storage (and refused the ones without a float32 conversion).
    const tensor = materialised.get(key);
    const dtype = t.storage.type.dtype;
    if (tensor === undefined || dtype === undefined) {
      throw new GenrepError(`checkpoint reader: tensor ${key} was not planned`, 'INTERNAL');
    }
    tensors.set(key, tensor);
    dtypes.set(key, dtype);
  }
  return { tensors, dtypes };
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  } catch (err) {
    throw err instanceof GenrepError
      ? err
      : fileError(file, `could not be read for hashing (${(err as Error).message})`, 'INTERNAL');
  }
  return hash.digest('hex');
}

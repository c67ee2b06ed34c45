import { fileError } from '../errors';
import { shortText } from './pythonValues';
import { elementCount, isContiguous, viewExtent } from './tensorView';
import type { StorageRef, TensorRef } from './torchGlobals';
import { ITEM_SIZE, type StorageDtype } from './torchGlobals';
import type { ZipArchive } from './zipArchive';

/**
 * Everything the reader checks about the tensors from the pickle and the zip directory alone, before reading a byte
 * of tensor data: each view fits its storage, each storage's entry exists with exactly the declared size, and the
 * memory the materialised tensors will take is known in advance.
 */

export interface StoragePlan {
  ref: StorageRef;
  dtype: StorageDtype;
  /** The storage's zip entry, and where its local header starts (storages are read in that order). */
  entry: string;
  offset: number;
  bytes: number;
  /** The state-dict tensors viewing it, with their keys, in file order. */
  users: Array<{ key: string; tensor: TensorRef }>;
}

export interface TensorPlan {
  /** Storages in archive order, so they are read sequentially. */
  storages: StoragePlan[];
  /** Bytes of storage data read from the archive. */
  storageBytes: number;
  /**
   * Bytes held once every tensor is materialised: the storages as read, their float32 conversions (other dtypes),
   * and a copy of every view that is not its storage's sole, whole, contiguous view.
   */
  bytesNeeded: number;
}

export interface PlanOptions {
  /** Largest tensor accepted, in float32 bytes. */
  maxEntryBytes: number;
  /** Refuse stride-0 (expanded) views rather than materialise them: no model parameter is one. */
  refuseExpandedViews: boolean;
}

/** Whether a storage array itself can serve the tensor (no copy). */
export function isWholeView(t: TensorRef, viewers: number): boolean {
  const whole = t.storageOffset === 0 && elementCount(t.size) === t.storage.numel;
  return viewers === 1 && whole && isContiguous(t.size, t.stride);
}

const fmt = (list: readonly number[]): string => `[${list.join(', ')}]`;

export function planTensors(
  file: string,
  zip: ZipArchive,
  prefix: string,
  model: ReadonlyMap<string, TensorRef>,
  options: PlanOptions,
): TensorPlan {
  const byStorage = new Map<StorageRef, StoragePlan>();
  for (const [key, t] of model) {
    const name = shortText(key);
    const { storage } = t;
    const dtype = storage.type.dtype;
    if (dtype === undefined) {
      const stored = `${storage.type.dtypeName} (torch.${storage.type.name})`;
      const problem = `tensor ${name} is stored as ${stored}, which cannot be converted to float32`;
      throw fileError(file, problem, 'UNSUPPORTED', {
        field: key,
        expected: 'float32, float16, bfloat16, float64 or integer storage',
      });
    }
    const count = elementCount(t.size);
    if (count * 4 > options.maxEntryBytes) {
      const limit = `the ${options.maxEntryBytes}-byte limit`;
      throw fileError(file, `tensor ${name} has ${count} elements, more than ${limit} allows`, 'UNSAFE', {
        field: key,
      });
    }
    const expanded = t.size.findIndex((n, d) => n > 1 && t.stride[d] === 0);
    if (options.refuseExpandedViews && expanded >= 0) {
      throw fileError(
        file,
        `tensor ${name} (shape ${fmt(t.size)}, stride ${fmt(t.stride)}) repeats one storage element along ` +
          `dimension ${expanded} (stride 0, an expanded view); a model parameter never is one, so it is refused ` +
          'rather than expanded in memory',
        'BAD_INPUT',
        { field: key, expected: 'a view with non-zero strides' },
      );
    }
    const extent = viewExtent(t.storageOffset, t.size, t.stride);
    if (extent > storage.numel) {
      const view = `shape ${fmt(t.size)}, storage offset ${t.storageOffset}, stride ${fmt(t.stride)}`;
      throw fileError(
        file,
        `tensor ${name} (${view}) needs ${extent} elements of storage ${storage.key}, ` +
          `which holds only ${storage.numel}`,
        'CORRUPT',
        { field: key },
      );
    }
    let plan = byStorage.get(storage);
    if (!plan) {
      const entry = `${prefix}data/${storage.key}`;
      const info = zip.entries.get(entry);
      if (!info) {
        const problem = `storage ${entry} of tensor ${name} is missing from the archive`;
        throw fileError(file, problem, 'CORRUPT', { field: key });
      }
      const bytes = storage.numel * ITEM_SIZE[dtype];
      if (info.uncompressedSize !== bytes) {
        throw fileError(
          file,
          `zip entry ${entry} holds ${info.uncompressedSize} bytes but the checkpoint's pickle declares ${bytes}; ` +
            'the file is corrupt or was not written by torch.save',
          'CORRUPT',
          { field: entry, expected: `${bytes} bytes` },
        );
      }
      plan = { ref: storage, dtype, entry, offset: info.entry.relativeOffsetOfLocalHeader, bytes, users: [] };
      byStorage.set(storage, plan);
    }
    plan.users.push({ key, tensor: t });
  }

  const storages = [...byStorage.values()].sort((a, b) => a.offset - b.offset);
  let storageBytes = 0;
  let bytesNeeded = 0;
  for (const s of storages) {
    storageBytes += s.bytes;
    bytesNeeded += s.bytes + (s.dtype === 'float32' ? 0 : 4 * s.ref.numel);
    for (const { tensor } of s.users) {
      if (!isWholeView(tensor, s.users.length)) bytesNeeded += 4 * elementCount(tensor.size);
    }
  }
  return { storages, storageBytes, bytesNeeded };
}

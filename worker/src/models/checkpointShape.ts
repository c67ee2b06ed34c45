import { open, type FileHandle } from 'node:fs/promises';
import { GenrepError } from '../errors';
import { sniffCheckpointFormat, SNIFF_BYTES } from '../checkpoint/fileFormat';
import { PickleFault, unpickle } from '../checkpoint/pickle';
import { PyDict, pyTypeName } from '../checkpoint/pythonValues';
import { ITEM_SIZE, TensorRef, torchUnpickleHooks } from '../checkpoint/torchGlobals';
import { ZipArchive } from '../checkpoint/zipArchive';
import { DEFAULT_MAX_ENTRY_BYTES } from '../checkpoint';

/**
 * Whether a downloaded file is a torch.save checkpoint, cheaply: the zip's central directory, one `<name>/data.pkl`
 * record, its pickle through the same restricted unpickler the reader uses, and a storage entry of the declared size
 * for every tensor. Storages are not read (the download's sha256 pass has just read every byte), so a 345 MiB
 * checkpoint is checked in milliseconds without holding its tensors in memory.
 */

/** A state dict's pickle is ~100 bytes per tensor; BEATs' is ~30 KB (the reader's limit). */
const MAX_PICKLE_BYTES = 64 * 2 ** 20;

/** Undefined when `file` looks like a checkpoint; otherwise what is wrong with it, without the file name. */
export async function checkpointProblem(file: string): Promise<string | undefined> {
  const handle = await open(file, 'r');
  try {
    const size = (await handle.stat()).size;
    const head = Buffer.alloc(Math.min(SNIFF_BYTES, size));
    if (head.length > 0) await handle.read(head, 0, head.length, 0);
    const format = sniffCheckpointFormat(head);
    if (format === 'empty') return 'it is empty';
    if (format === 'legacy-pickle' || format === 'legacy-tar') {
      return 'it is in the legacy (pre-1.6) PyTorch format, which GenRep does not read';
    }
    if (format !== 'zip') return 'it is not a zip archive (a torch.save checkpoint is one)';
    if (!(await hasEndRecord(handle, size))) {
      return 'it has no zip end-of-central-directory record: it is truncated, or not a zip archive';
    }
    let zip: ZipArchive;
    try {
      zip = await ZipArchive.open(file, handle, size, { maxEntryBytes: DEFAULT_MAX_ENTRY_BYTES });
    } catch (err) {
      return withoutFile(file, err);
    }
    try {
      return await archiveProblem(file, zip);
    } finally {
      zip.close();
    }
  } finally {
    await handle.close();
  }
}

/** The end record sits in the last 22 bytes plus at most a 64 KiB comment; without it no zip can be listed. */
async function hasEndRecord(handle: FileHandle, size: number): Promise<boolean> {
  const tail = Buffer.alloc(Math.min(size, 22 + 0xffff));
  await handle.read(tail, 0, tail.length, size - tail.length);
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail[i] === 0x50 && tail[i + 1] === 0x4b && tail[i + 2] === 5 && tail[i + 3] === 6) return true;
  }
  return false;
}

async function archiveProblem(file: string, zip: ZipArchive): Promise<string | undefined> {
  const pickles = [...zip.entries.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  const [pickleName, ...morePickles] = pickles;
  const pickleEntry = pickleName === undefined ? undefined : zip.entries.get(pickleName);
  if (pickleName === undefined || pickleEntry === undefined || morePickles.length > 0) {
    return pickles.length === 0
      ? 'it is a zip archive without a <name>/data.pkl record, not a torch.save checkpoint'
      : `it holds ${pickles.length} data.pkl records; a torch.save checkpoint has one`;
  }
  const prefix = pickleName.slice(0, -'data.pkl'.length);
  const pickleSize = pickleEntry.uncompressedSize;
  if (pickleSize > MAX_PICKLE_BYTES) return `${pickleName} is ${pickleSize} bytes, too large for a state dict's pickle`;
  const { hooks, storages } = torchUnpickleHooks();
  let root;
  try {
    root = unpickle(await zip.read(pickleName), hooks);
  } catch (err) {
    if (err instanceof PickleFault) return `${pickleName}: ${err.message}`;
    return withoutFile(file, err);
  }
  if (!(root instanceof PyDict)) return `${pickleName} holds a ${pyTypeName(root)}, expected a dict`;
  const model = root.get('model');
  const tensors = model instanceof PyDict ? model : root;
  const count = [...tensors.items()].filter(([, v]) => v instanceof TensorRef).length;
  if (count === 0) return `${pickleName} holds no tensors (neither a 'model' state dict nor a bare one)`;
  for (const storage of storages.values()) {
    const name = `${prefix}data/${storage.key}`;
    const entry = zip.entries.get(name);
    if (!entry) return `storage ${name} is missing from the archive`;
    const dtype = storage.type.dtype;
    if (dtype !== undefined && entry.uncompressedSize !== storage.numel * ITEM_SIZE[dtype]) {
      const declared = storage.numel * ITEM_SIZE[dtype];
      return `storage ${name} holds ${entry.uncompressedSize} bytes, the pickle declares ${declared}`;
    }
  }
  return undefined;
}

/** The reader's messages start with the file name; the download names the file itself. */
function withoutFile(file: string, err: unknown): string {
  if (!(err instanceof GenrepError)) throw err;
  return err.message.startsWith(`${file}: `) ? err.message.slice(file.length + 2) : err.message;
}

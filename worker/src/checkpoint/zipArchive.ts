import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import yauzl from 'yauzl';
import { fileError, GenrepError } from '../errors';
import { shortText } from './pythonValues';

/**
 * Random access to the entries of a zip archive on disk, through yauzl's central-directory parser: nothing is read
 * but the directory and the entries asked for, so a 345 MiB checkpoint is never held in one Buffer, and each entry
 * is read straight into its own buffer (stored entries by positional reads; deflated ones inflated chunk by chunk).
 * Entry names are validated, sizes bounded and checked, and every entry's CRC-32 verified.
 */

export interface ZipLimits {
  /** Largest uncompressed entry accepted, in bytes. */
  maxEntryBytes: number;
}

export interface ZipEntryInfo {
  name: string;
  uncompressedSize: number;
  compressedSize: number;
  entry: yauzl.Entry;
}

const CHUNK_BYTES = 1 << 20;
/**
 * torch.save stores entries uncompressed; a re-zipped checkpoint of float weights deflates ~1.1:1. Deflate reaches
 * ~1000:1 on zeros, so an entry claiming more than this ratio (above a small floor, for the pickle and records) is a
 * bomb, refused before anything is inflated.
 */
export const MAX_INFLATE_RATIO = 100;
const RATIO_FLOOR_BYTES = 1 << 20;
/** A torch.save archive has one entry per storage plus three records; a state dict never has this many tensors. */
export const MAX_ENTRIES = 1 << 18;
/** Stored entries are read in pieces this size, so checking one overlaps reading the next. */
const PIPELINE_BYTES = 8 << 20;

/** yauzl's reader interface over a FileHandle we own (so we decide when the file is closed). */
class FileHandleReader extends yauzl.RandomAccessReader {
  constructor(private readonly handle: FileHandle) {
    super();
  }

  override _readStreamForRange(start: number, end: number): Readable {
    // Not fs.createReadStream: destroying one (yauzl does, and so does `for await`) closes the shared descriptor
    // even with autoClose: false.
    const handle = this.handle;
    let position = start;
    return new Readable({
      highWaterMark: CHUNK_BYTES,
      read() {
        const length = Math.min(CHUNK_BYTES, end - position);
        if (length <= 0) {
          this.push(null);
          return;
        }
        const chunk = Buffer.allocUnsafe(length);
        handle.read(chunk, 0, length, position).then(
          ({ bytesRead }) => {
            position += bytesRead;
            this.push(bytesRead === 0 ? null : chunk.subarray(0, bytesRead));
          },
          (err: Error) => this.destroy(err),
        );
      },
    });
  }

  override read(
    buffer: Buffer,
    offset: number,
    length: number,
    position: number,
    callback: (err: Error | null) => void,
  ): void {
    // yauzl's own readers report bytesRead as a second argument; the typings omit it.
    const done: (err: Error | null, bytesRead?: number) => void = callback;
    readFully(this.handle, buffer, offset, length, position).then(
      (bytesRead) => done(null, bytesRead),
      (err: Error) => done(err),
    );
  }

  override close(callback: (err: Error | null) => void): void {
    setImmediate(() => callback(null));
  }
}

/** Reads until `length` bytes or end of file; returns how many were read. */
async function readFully(
  handle: FileHandle,
  buffer: Uint8Array,
  offset: number,
  length: number,
  position: number,
): Promise<number> {
  let total = 0;
  while (total < length) {
    const chunk = Math.min(length - total, 16 << 20);
    const { bytesRead } = await handle.read(buffer, offset + total, chunk, position + total);
    if (bytesRead === 0) break;
    total += bytesRead;
  }
  return total;
}

/** What yauzl's messages mean for a person holding the file. */
function zipFailure(file: string, err: unknown): GenrepError {
  if (err instanceof GenrepError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (
    /end of central directory record signature not found|unexpected EOF|overflows file bounds|not enough bytes/i.test(
      message,
    )
  ) {
    return fileError(
      file,
      `truncated or corrupt zip archive (${message}); the download or copy is incomplete: fetch or save the checkpoint again`,
      'CORRUPT',
    );
  }
  return fileError(file, `corrupt zip archive (${message}); fetch or save the checkpoint again`, 'CORRUPT');
}

// eslint-disable-next-line no-control-regex -- finding control characters in entry names is its purpose
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

/** Entry names are relative paths inside the archive; absolute, drive-letter, backslash or '..' names are refused. */
function checkEntryName(file: string, name: string): void {
  const problem =
    name.length === 0
      ? 'is empty'
      : CONTROL_CHARACTERS.test(name)
        ? 'contains control characters'
        : name.includes('\\')
          ? 'contains a backslash'
          : name.startsWith('/') || /^[A-Za-z]:/.test(name)
            ? 'is an absolute path'
            : name.split('/').includes('..')
              ? "contains a '..' component"
              : undefined;
  if (problem !== undefined) {
    const shown = JSON.stringify(shortText(name));
    const refusal = 'refusing an archive whose paths could escape it';
    throw fileError(file, `zip entry name ${shown} ${problem}; ${refusal}`, 'UNSAFE', { field: name });
  }
}

export class ZipArchive {
  private constructor(
    readonly file: string,
    private readonly handle: FileHandle,
    private readonly zip: yauzl.ZipFile,
    readonly entries: Map<string, ZipEntryInfo>,
  ) {}

  /** Opens and lists the archive. The handle stays owned by the caller, who closes it after `close()`. */
  static async open(file: string, handle: FileHandle, fileSize: number, limits: ZipLimits): Promise<ZipArchive> {
    const reader = new FileHandleReader(handle);
    let zip: yauzl.ZipFile;
    try {
      zip = await yauzl.fromRandomAccessReaderPromise(reader, fileSize, {
        lazyEntries: true,
        autoClose: false,
        decodeStrings: false, // names are validated below, with our own messages
        validateEntrySizes: true,
      });
    } catch (err) {
      throw zipFailure(file, err);
    }
    try {
      if (zip.entryCount > MAX_ENTRIES) {
        const problem = `zip archive lists ${zip.entryCount} entries, more than the ${MAX_ENTRIES} a checkpoint has`;
        throw fileError(file, problem, 'UNSAFE', { expected: `at most ${MAX_ENTRIES} entries` });
      }
      const entries = await listEntries(file, zip, limits, fileSize);
      return new ZipArchive(file, handle, zip, entries);
    } catch (err) {
      zip.close();
      throw err;
    }
  }

  close(): void {
    this.zip.close();
  }

  /**
   * The entry's bytes in a buffer of its own (8-byte aligned, so typed arrays can view it), after checking its size
   * against `expectedBytes` (when given) and its CRC-32.
   */
  async read(name: string, expectedBytes?: number): Promise<Buffer> {
    const info = this.entries.get(name);
    if (!info) throw fileError(this.file, `the archive has no entry ${name}`, 'CORRUPT', { field: name });
    const { entry } = info;
    if (expectedBytes !== undefined && info.uncompressedSize !== expectedBytes) {
      throw fileError(
        this.file,
        `zip entry ${name} holds ${info.uncompressedSize} bytes but the checkpoint's pickle declares ${expectedBytes}; the file is corrupt or was not written by torch.save`,
        'CORRUPT',
        { field: name, expected: `${expectedBytes} bytes` },
      );
    }
    // allocUnsafeSlow: a fresh ArrayBuffer at offset 0 (pooled Buffers may start at odd offsets)
    const out = Buffer.allocUnsafeSlow(info.uncompressedSize);
    let actual: number;
    try {
      actual = entry.compressionMethod === 0 ? await this.readStored(entry, out) : await this.readDeflated(entry, out);
    } catch (err) {
      throw zipFailure(this.file, err);
    }
    if (actual !== entry.crc32 >>> 0) {
      throw fileError(
        this.file,
        `zip entry ${name} fails its CRC-32 check (stored ${hex(entry.crc32)}, computed ${hex(actual)}); the file is corrupt: fetch or save it again`,
        'CORRUPT',
        { field: name },
      );
    }
    return out;
  }

  /** Reads chunk by chunk, computing the CRC of each chunk while the next is read; returns the CRC. */
  private async readStored(entry: yauzl.Entry, out: Buffer): Promise<number> {
    if (entry.compressedSize !== entry.uncompressedSize) {
      throw new Error(
        `stored entry's compressed size ${entry.compressedSize} differs from its size ${entry.uncompressedSize}`,
      );
    }
    const { fileDataStart } = await this.zip.readLocalFileHeaderPromise(entry, { minimal: true });
    const readAt = (at: number): Promise<number> =>
      readFully(this.handle, out, at, Math.min(PIPELINE_BYTES, out.length - at), fileDataStart + at);
    let crc = 0;
    let at = 0;
    let pending = out.length > 0 ? readAt(0) : undefined;
    while (pending) {
      const got = await pending;
      const wanted = Math.min(PIPELINE_BYTES, out.length - at);
      if (got !== wanted)
        throw new Error(
          `unexpected EOF: entry ${entry.fileName} needs ${out.length} bytes, the file holds ${at + got}`,
        );
      const start = at;
      at += got;
      pending = at < out.length ? readAt(at) : undefined;
      crc = crc32(out.subarray(start, at), crc);
    }
    return crc >>> 0;
  }

  private async readDeflated(entry: yauzl.Entry, out: Buffer): Promise<number> {
    const stream = await this.zip.openReadStreamPromise(entry);
    let filled = 0;
    let crc = 0;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      // yauzl's validateEntrySizes also stops an over-long stream; this guards the copy itself.
      if (filled + chunk.length > out.length) {
        stream.destroy();
        throw new Error(`too many bytes in entry ${entry.fileName}: more than the declared ${out.length}`);
      }
      chunk.copy(out, filled);
      filled += chunk.length;
      crc = crc32(chunk, crc);
    }
    if (filled !== out.length)
      throw new Error(`not enough bytes in entry ${entry.fileName}: ${filled} of ${out.length}`);
    return crc >>> 0;
  }
}

function hex(n: number): string {
  return `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
}

/** Local header (30 bytes) before an entry's data: the least an entry takes besides its data. */
const LOCAL_HEADER_BYTES = 30;

function checkEntrySizes(file: string, name: string, entry: yauzl.Entry, limits: ZipLimits, fileSize: number): void {
  const { uncompressedSize, compressedSize, relativeOffsetOfLocalHeader: offset } = entry;
  const shown = shortText(name);
  if (uncompressedSize > limits.maxEntryBytes) {
    throw fileError(
      file,
      `zip entry ${shown} declares ${uncompressedSize} bytes, above the ${limits.maxEntryBytes}-byte limit for one ` +
        'entry; refusing it',
      'UNSAFE',
      { field: name, expected: `at most ${limits.maxEntryBytes} bytes` },
    );
  }
  // Checked here so that no buffer is ever sized from a header the file cannot back.
  if (offset + LOCAL_HEADER_BYTES + compressedSize > fileSize) {
    throw fileError(
      file,
      `truncated or corrupt zip archive (entry ${shown} claims ${compressedSize} bytes at offset ${offset}, past the ` +
        `end of the ${fileSize}-byte file); the download or copy is incomplete: fetch or save the checkpoint again`,
      'CORRUPT',
      { field: name },
    );
  }
  if (entry.compressionMethod === 0 && compressedSize !== uncompressedSize) {
    const sizes = `${uncompressedSize} bytes in ${compressedSize}`;
    const problem = `zip entry ${shown} is stored uncompressed but declares ${sizes}`;
    throw fileError(file, problem, 'CORRUPT', { field: name });
  }
  const bomb = uncompressedSize > RATIO_FLOOR_BYTES && uncompressedSize > MAX_INFLATE_RATIO * compressedSize;
  if (entry.compressionMethod === 8 && bomb) {
    throw fileError(
      file,
      `zip entry ${shown} would inflate ${compressedSize} bytes to ${uncompressedSize} (more than ` +
        `${MAX_INFLATE_RATIO}:1, which no checkpoint of weights reaches); refusing a zip bomb`,
      'UNSAFE',
      { field: name, expected: `a compression ratio of at most ${MAX_INFLATE_RATIO}:1` },
    );
  }
}

function listEntries(
  file: string,
  zip: yauzl.ZipFile,
  limits: ZipLimits,
  fileSize: number,
): Promise<Map<string, ZipEntryInfo>> {
  return new Promise((resolve, reject) => {
    const entries = new Map<string, ZipEntryInfo>();
    const fail = (err: unknown): void => {
      zip.removeAllListeners('entry');
      reject(err instanceof GenrepError ? err : zipFailure(file, err));
    };
    zip.on('error', fail);
    zip.on('end', () => resolve(entries));
    zip.on('entry', (entry: yauzl.Entry) => {
      try {
        const raw = entry.fileName as unknown as Buffer;
        const name = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, raw, entry.extraFields, true);
        checkEntryName(file, name);
        const shown = shortText(name);
        if (entries.has(name)) throw fileError(file, `zip entry ${shown} appears twice`, 'CORRUPT', { field: name });
        if (entry.isEncrypted()) {
          throw fileError(file, `zip entry ${shown} is encrypted`, 'UNSUPPORTED', { field: name });
        }
        if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
          const method = `compression method ${entry.compressionMethod}`;
          const problem = `zip entry ${shown} uses ${method}; only stored and deflate are supported`;
          throw fileError(file, problem, 'UNSUPPORTED', { field: name });
        }
        checkEntrySizes(file, name, entry, limits, fileSize);
        entries.set(name, {
          name,
          uncompressedSize: entry.uncompressedSize,
          compressedSize: entry.compressedSize,
          entry,
        });
        zip.readEntry();
      } catch (err) {
        fail(err);
      }
    });
    zip.readEntry();
  });
}

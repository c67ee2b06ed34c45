import { createReadStream, promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { GenrepError, type ErrorCode } from '../errors';
import { ensureDir, errnoCode, fsError } from '../io/fsErrors';
import { checkpointProblem } from './checkpointShape';
import { CHECKSUMS, isSha256, readChecksums, recordFor, writeRecord, type ChecksumRecords } from './checksumRecords';
import { DEFAULT_TRANSFER_LIMITS, httpGet, TransferFault, type GetResponse, type TransferLimits } from './httpGet';
import { contentTypeProblem, describeNonZip, encodingProblem, startsAsZip } from './responseChecks';

/**
 * Downloads a checkpoint into `<dir>/<file>`, resumably: bytes land in `<file>.part`, an interrupted download is
 * continued with an HTTP Range request, and only a complete file is renamed into place. Nothing is trusted before it
 * is verified: the body must match its Content-Length exactly, must not be a document or content-coded, must start
 * as a zip archive, and the finished file must be a torch.save checkpoint (central directory, data.pkl, storages).
 * Only then is its sha256 checked against the published one (models/manifest.json) or, as the authors publish none,
 * against the one recorded in `<dir>/checksums.json` at the first verified download, or recorded now.
 */
export interface DownloadOptions {
  dir: string;
  file: string;
  url: string;
  onProgress?: (received: number, total: number | undefined) => void;
  signal?: AbortSignal;
  /** What models/manifest.json publishes for this file; a published sha256 wins over checksums.json. */
  published?: { sha256?: string; size?: number };
  /** Overrides of the transfer limits (tests use short ones). */
  limits?: Partial<DownloadLimits>;
}

export interface DownloadLimits extends TransferLimits {
  /** Largest body accepted, announced or streamed; default: the published size, else DEFAULT_MAX_BYTES. */
  maxBytes: number;
}

/** The checkpoints GenRep knows are under 400 MiB; a body past this is not one of them. */
export const DEFAULT_MAX_BYTES = 2 * 2 ** 30;

export interface DownloadResult {
  path: string;
  size: number;
  sha256: string;
  /** 'downloaded', 'resumed' (continued a .part) or 'present' (already complete and verified). */
  status: 'downloaded' | 'resumed' | 'present';
  /** True when this download's sha256 was recorded now, false when it matched an earlier record. */
  recorded: boolean;
}

/** The names and words every message of one download shares. */
interface Job {
  dir: string;
  file: string;
  url: string;
  target: string;
  part: string;
  /** "download of X from URL", the URL without its query (SAS token). */
  what: string;
  published: { sha256?: string; size?: number };
  limits: DownloadLimits;
}

export async function downloadCheckpoint(options: DownloadOptions): Promise<DownloadResult> {
  const { dir, file, url } = options;
  if (path.basename(file) !== file || file === '' || file.startsWith('.')) {
    throw new GenrepError(`invalid checkpoint file name '${file}'`, 'UNSAFE', { field: 'file' });
  }
  checkUrl(url);
  const published = checkPublished(options.published ?? {});
  await ensureDir(dir);
  const target = path.join(dir, file);
  const job: Job = {
    dir,
    file,
    url,
    target,
    part: `${target}.part`,
    what: `download of ${file} from ${redactUrl(url)}`,
    published,
    limits: { ...DEFAULT_TRANSFER_LIMITS, maxBytes: published.size ?? DEFAULT_MAX_BYTES, ...options.limits },
  };
  const records = await readChecksums(dir);
  if (await exists(target)) return verifyPresent(job, records);

  const offset = await resumableOffset(job);
  const response = await request(job, offset, options.signal);
  const { total, start, complete } = acceptResponse(job, response, offset);
  const received = complete ? start : await receiveBody(job, response, start, total, options);

  if (job.published.size !== undefined && received !== job.published.size) {
    await removePart(job);
    const expected = `models/manifest.json gives this checkpoint's size as ${job.published.size}`;
    throw refused(job, `${received} bytes, but ${expected}`, TRY_AGAIN);
  }
  const problem = await checkpointProblem(job.part).catch((err: unknown) => {
    throw fsError(err, job.part, { action: 'read' });
  });
  if (problem !== undefined) {
    await removePart(job);
    const afresh = 'run it again to download it afresh (the file may have changed since the partial download)';
    const advice: Advice = start > 0 ? () => afresh : TRY_AGAIN;
    throw refused(job, `${received} bytes that are not a PyTorch checkpoint (${problem})`, advice);
  }
  const { sha256, size } = await hashFile(job.part);
  const recorded = await settleChecksum(job, records, { sha256, size }, true);
  try {
    await fsp.rename(job.part, target);
  } catch (err) {
    throw fsError(err, target, { action: 'write' });
  }
  return { path: target, size, sha256, status: start > 0 ? 'resumed' : 'downloaded', recorded };
}

type Advice = (job: Job) => string;
const BROWSER: Advice = (job) => `download it in a browser and place it at ${job.target}`;
const TRY_AGAIN: Advice = (job) => `try again later or from another mirror, or ${BROWSER(job)}`;
const OTHER_MIRROR: Advice = (job) => `use another mirror, or ${BROWSER(job)}`;

function checkUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new GenrepError(`download address ${JSON.stringify(redactUrl(url))} is not a valid URL`, 'BAD_INPUT', {
      field: 'url',
    });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    const problem = `is a ${parsed.protocol} URL; expected http or https`;
    throw new GenrepError(`download address ${redactUrl(url)} ${problem}`, 'BAD_INPUT', { field: 'url' });
  }
}

function checkPublished(published: { sha256?: string; size?: number }): { sha256?: string; size?: number } {
  if (published.sha256 !== undefined && !isSha256(published.sha256)) {
    throw new GenrepError(`published sha256 '${published.sha256}' is not 64 lowercase hex digits`, 'BAD_INPUT', {
      field: 'sha256',
    });
  }
  if (published.size !== undefined && !(Number.isSafeInteger(published.size) && published.size > 0)) {
    throw new GenrepError(`published size ${published.size} is not a positive integer`, 'BAD_INPUT', { field: 'size' });
  }
  return published;
}

/** One line: what happened to which download, that nothing was kept, and what the user can do. */
function refused(job: Job, problem: string, advice: Advice, code: ErrorCode = 'CORRUPT'): GenrepError {
  const message = `${job.what} refused: the server sent ${problem}; nothing was kept. ${capital(advice(job))}`;
  return new GenrepError(message, code, { file: job.target });
}

function capital(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The size of a `.part` worth resuming; one that does not start as a zip archive is stale garbage and goes. */
async function resumableOffset(job: Job): Promise<number> {
  let handle: FileHandle;
  try {
    handle = await fsp.open(job.part, 'r');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return 0;
    throw fsError(err, job.part, { action: 'read' });
  }
  let size: number;
  const head = Buffer.alloc(4);
  try {
    size = (await handle.stat()).size;
    await handle.read(head, 0, 4, 0);
  } finally {
    await handle.close();
  }
  if (startsAsZip(head) && size <= job.limits.maxBytes) return size;
  await removePart(job);
  return 0;
}

async function request(job: Job, offset: number, signal: AbortSignal | undefined): Promise<GetResponse> {
  // identity: a content-coded body cannot be checked against Content-Length, nor bounded before it is unpacked.
  const headers: Record<string, string> = {
    'Accept-Encoding': 'identity',
    ...(offset > 0 ? { Range: `bytes=${offset}-` } : {}),
  };
  try {
    return await httpGet(job.url, headers, job.limits, signal);
  } catch (err) {
    if (!(err instanceof TransferFault)) throw err;
    if (err.kind === 'cancelled') {
      throw new GenrepError(`download of ${job.file} cancelled`, 'CANCELLED', { file: job.target });
    }
    throw new GenrepError(
      `download of ${job.file} failed: ${err.message} (${redactUrl(job.url)}); try again later or from another mirror`,
      'NOT_FOUND',
      { file: job.target },
    );
  }
}

/** Checks status and headers; returns the file's total size (when known) and where this body starts in it. */
function acceptResponse(
  job: Job,
  response: GetResponse,
  offset: number,
): { total: number | undefined; start: number; complete?: boolean } {
  try {
    const { status } = response;
    let total: number | undefined;
    let start = 0;
    const length = parseLength(response.header('content-length'));
    if (status === 206 && offset > 0) {
      const contentRange = response.header('content-range') ?? '';
      const range = /^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/.exec(contentRange.trim());
      const first = range ? Number(range[1]) : NaN;
      const last = range ? Number(range[2]) : NaN;
      total = range && range[3] !== '*' ? Number(range[3]) : undefined;
      const consistent =
        first === offset &&
        last >= first &&
        (total === undefined || last === total - 1) &&
        (length === undefined || length === last - first + 1);
      if (!consistent) {
        throw new GenrepError(
          `download of ${job.file}: the server answered an unexpected range (${contentRange.slice(0, 80)}); ` +
            `delete ${job.part} and retry`,
          'CORRUPT',
          { file: job.part },
        );
      }
      start = offset;
    } else if (status === 200) {
      // The server ignored the Range header (or there was nothing to resume): start from zero.
      total = length;
    } else if (status === 416 && offset > 0) {
      // "bytes */N" with N the part's size: the part is the whole file (a run stopped between the last byte and
      // the rename), so it only needs verifying.
      const size = /^bytes\s+\*\/(\d+)$/.exec((response.header('content-range') ?? '').trim())?.[1];
      if (size !== undefined && Number(size) === offset) {
        response.discard();
        return { total: offset, start: offset, complete: true };
      }
      throw new GenrepError(
        `download of ${job.file}: the partial file ${job.part} is larger than the server's file; delete it and retry`,
        'CORRUPT',
        { file: job.part },
      );
    } else {
      const hint = status === 401 || status === 403 ? '; the link may have expired or need a sign-in' : '';
      throw new GenrepError(
        `download of ${job.file} failed: HTTP ${status} ${response.statusText} (${redactUrl(job.url)})${hint}`,
        'NOT_FOUND',
        { file: job.target },
      );
    }
    const encoding = encodingProblem(response.header('content-encoding'));
    if (encoding) throw refused(job, encoding, OTHER_MIRROR, 'UNSUPPORTED');
    const document = contentTypeProblem(response.header('content-type'));
    if (document) throw refused(job, document, BROWSER);
    const declaredLength = response.header('content-length');
    if (declaredLength !== undefined && length === undefined) {
      throw refused(job, `an invalid Content-Length (${declaredLength.slice(0, 40)})`, TRY_AGAIN);
    }
    if (total !== undefined && job.published.size !== undefined && total !== job.published.size) {
      const expected = `models/manifest.json gives this checkpoint's size as ${job.published.size}`;
      throw refused(job, `a ${total}-byte file, but ${expected}`, TRY_AGAIN);
    }
    if (total !== undefined && total > job.limits.maxBytes) {
      const limit = `the ${job.limits.maxBytes}-byte limit for a checkpoint`;
      throw refused(job, `a ${total}-byte file, more than ${limit}`, TRY_AGAIN);
    }
    return { total, start };
  } catch (err) {
    response.discard();
    throw err;
  }
}

function parseLength(value: string | undefined): number | undefined {
  if (value === undefined || !/^\s*\d{1,16}\s*$/.test(value)) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** A failure writing the `.part` (disk full, permissions): unlike a refusal, it says nothing against the bytes. */
class WriteFailure extends Error {
  constructor(readonly error: GenrepError) {
    super(error.message);
  }
}

/**
 * Streams the body into the `.part` file and returns the bytes the file now holds. A fresh body is held back until
 * its first bytes show a zip archive, so a page or garbage never replaces (or creates) a partial file. On failure the
 * `.part` is kept only when it is a zip-looking prefix of a file of known size, which a second run can resume.
 */
async function receiveBody(
  job: Job,
  response: GetResponse,
  start: number,
  total: number | undefined,
  options: DownloadOptions,
): Promise<number> {
  const limit = total ?? job.limits.maxBytes;
  let received = start;
  let head: Buffer | undefined = start === 0 ? Buffer.alloc(0) : undefined;
  let handle: FileHandle | undefined;
  /** The part file, once every byte is in it and synced. */
  let written: FileHandle;
  const write = async (bytes: Buffer): Promise<FileHandle> => {
    try {
      handle ??= await fsp.open(job.part, start > 0 ? 'a' : 'w');
      await handle.write(bytes);
      return handle;
    } catch (err) {
      throw new WriteFailure(fsError(err, job.part, { action: 'write' }));
    }
  };
  /** Releases the held-back head once it shows a zip archive; refuses it as soon as it cannot be one. */
  const judgeHead = async (ended: boolean): Promise<void> => {
    if (head === undefined || (head.length < 4 && !ended)) return;
    if (!startsAsZip(head)) throw refused(job, describeNonZip(head), BROWSER);
    const bytes = head;
    head = undefined;
    await write(bytes);
  };
  try {
    options.onProgress?.(received, total);
    for await (const chunk of response.body()) {
      received += chunk.length;
      if (received > limit) {
        const what =
          total === undefined
            ? `no Content-Length and more than ${limit} bytes (the limit for a checkpoint)`
            : `more than ${total} bytes`;
        throw refused(job, what, TRY_AGAIN);
      }
      if (head !== undefined) {
        head = Buffer.concat([head, chunk]);
        await judgeHead(false);
      } else {
        await write(chunk);
      }
      options.onProgress?.(received, total);
    }
    await judgeHead(true);
    written = handle ?? (await write(Buffer.alloc(0)));
    await written.sync().catch((err: unknown) => {
      throw new WriteFailure(fsError(err, job.part, { action: 'write' }));
    });
  } catch (err) {
    const touched = handle !== undefined;
    await handle?.close().catch(() => undefined);
    // Only a prefix that started as a zip archive, of a file whose size is known, is worth resuming.
    const resumable = (touched || start > 0) && head === undefined && total !== undefined;
    const isStall = err instanceof TransferFault && err.kind !== 'framing';
    if (touched && !(resumable && (isStall || err instanceof WriteFailure))) await removePart(job);
    if (isStall) throw interrupted(job, err, received, total, resumable);
    if (err instanceof WriteFailure) throw err.error;
    if (err instanceof TransferFault) {
      const what =
        total !== undefined
          ? `more bytes than its Content-Length of ${total} announced`
          : 'a body that broke HTTP framing';
      throw refused(job, `${what} (${err.message}, after ${received} bytes)`, TRY_AGAIN);
    }
    throw err;
  }
  try {
    await written.close();
  } catch (err) {
    throw fsError(err, job.part, { action: 'write' });
  }
  if (total !== undefined && received !== total) {
    throw new GenrepError(
      `download of ${job.file} is incomplete: received ${received} of ${total} bytes; ` +
        `run it again to resume from ${job.part}`,
      'CORRUPT',
      { file: job.part },
    );
  }
  return received;
}

function interrupted(
  job: Job,
  fault: TransferFault,
  received: number,
  total: number | undefined,
  kept: boolean,
): GenrepError {
  const of = `${received}${total !== undefined ? ` of ${total}` : ''} bytes`;
  const file = kept ? job.part : job.target;
  if (fault.kind === 'cancelled') {
    const advice = kept ? 'run it again to resume' : 'nothing was kept';
    return new GenrepError(`download of ${job.file} cancelled after ${of}; ${advice}`, 'CANCELLED', { file });
  }
  const advice = kept
    ? `run it again to resume from ${job.part}`
    : 'nothing was kept; try again later or from another mirror';
  const message = `download of ${job.file} interrupted after ${of}: ${fault.message} (${redactUrl(job.url)}); ${advice}`;
  return new GenrepError(message, 'NOT_FOUND', { file });
}

/** An existing file is checked as a download would be, but never deleted: it may be the user's own copy. */
async function verifyPresent(job: Job, records: ChecksumRecords): Promise<DownloadResult> {
  const { sha256, size } = await hashFile(job.target);
  const recorded = await settleChecksum(job, records, { sha256, size }, false, async () => {
    const problem = await checkpointProblem(job.target).catch((err: unknown) => {
      throw fsError(err, job.target, { action: 'read' });
    });
    if (problem === undefined) return;
    const record = recordFor(records, job.file);
    const pinned =
      record?.sha256 === sha256
        ? `; it matches the checksum recorded in ${path.join(job.dir, CHECKSUMS)}, ` +
          'so remove that entry too (it pins a bad download)'
        : '';
    const message = `${job.target}: not a PyTorch checkpoint (${problem}); delete it and download it again${pinned}`;
    throw new GenrepError(message, 'CORRUPT', { file: job.target });
  });
  return { path: job.target, size, sha256, status: 'present', recorded };
}

/**
 * Checks a file's sha256 against the published one, else the recorded one, and records it when neither exists.
 * `check` (the checkpoint check of a present file) runs after a mismatch is ruled out and before anything is recorded.
 */
async function settleChecksum(
  job: Job,
  records: ChecksumRecords,
  got: { sha256: string; size: number },
  isPart: boolean,
  check?: () => Promise<void>,
): Promise<boolean> {
  const where = isPart ? job.part : job.target;
  const kept = isPart ? `the new bytes were kept as ${job.part}.mismatch. ` : '';
  const keepMismatch = async (): Promise<void> => {
    if (isPart)
      await fsp.rename(job.part, `${job.part}.mismatch`).catch((err: unknown) => {
        throw fsError(err, `${job.part}.mismatch`, { action: 'write' });
      });
  };
  const previous = recordFor(records, job.file);
  if (job.published.sha256 !== undefined) {
    if (got.sha256 !== job.published.sha256) {
      await keepMismatch();
      throw new GenrepError(
        `${job.file}: sha256 ${got.sha256} (${got.size} bytes) differs from the one published in ` +
          'models/manifest.json, ' +
          `${job.published.sha256}; ${kept}The server sent a different file: use the official link or another mirror.`,
        'CORRUPT',
        { file: where },
      );
    }
    await check?.();
    // The published checksum wins: a record that disagrees pinned something else and is replaced.
    if (previous?.sha256 === got.sha256 && previous.size === got.size && previous.checked === true) return false;
  } else if (previous) {
    if (previous.sha256 !== got.sha256 || previous.size !== got.size) {
      await keepMismatch();
      const unchecked =
        previous.checked === true
          ? ''
          : ' That entry was recorded by a GenRep that did not yet check downloads, so it may pin an error page: ' +
            "if its size is far from the checkpoint's, remove it.";
      throw new GenrepError(
        `${job.file}: sha256 ${got.sha256} (${got.size} bytes) differs from the one recorded at its first download, ` +
          `${previous.sha256} (${previous.size} bytes, ${previous.recordedAt}); ${kept}` +
          'If the publisher really changed the file, remove its entry from ' +
          `${path.join(job.dir, CHECKSUMS)}.${unchecked}`,
        'CORRUPT',
        { file: path.join(job.dir, job.file) },
      );
    }
    await check?.();
    if (previous.checked === true) return false;
  } else {
    await check?.();
  }
  await writeRecord(job.dir, records, job.file, {
    sha256: got.sha256,
    size: got.size,
    url: redactUrl(job.url),
    recordedAt: new Date().toISOString(),
    checked: true,
  });
  return true;
}

async function removePart(job: Job): Promise<void> {
  await fsp.rm(job.part, { force: true }).catch((err: unknown) => {
    throw fsError(err, job.part, { action: 'write' });
  });
}

export async function hashFile(file: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
  } catch (err) {
    throw fsError(err, file, { action: 'read' });
  }
  return { sha256: hash.digest('hex'), size };
}

async function exists(file: string): Promise<boolean> {
  try {
    await fsp.access(file);
    return true;
  } catch {
    return false;
  }
}

/** The official links carry a SAS token in the query string; it has no place in logs or records. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : `${url.slice(0, q)}?…`;
}

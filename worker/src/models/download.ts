import { createReadStream, promises as fsp } from 'node:fs';
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { GenrepError } from '../errors';
import { writeFileAtomic } from '../io/atomicWrite';

/**
 * Downloads a checkpoint into `<dir>/<file>`, resumably: bytes land in `<file>.part`, an interrupted download is
 * continued with an HTTP Range request, and only a complete file (size equal to what the server announced) is
 * renamed into place. The authors publish no checksums, so the sha256 of the first complete download is recorded in
 * `<dir>/checksums.json` and every later download of the same file must match it.
 */
export interface DownloadOptions {
  dir: string;
  file: string;
  url: string;
  onProgress?: (received: number, total: number | undefined) => void;
  signal?: AbortSignal;
}

export interface DownloadResult {
  path: string;
  size: number;
  sha256: string;
  /** 'downloaded', 'resumed' (continued a .part) or 'present' (already complete and verified). */
  status: 'downloaded' | 'resumed' | 'present';
  /** True when this download's sha256 was recorded now, false when it matched an earlier record. */
  recorded: boolean;
}

interface ChecksumRecord {
  sha256: string;
  size: number;
  url: string;
  recordedAt: string;
}

const CHECKSUMS = 'checksums.json';

export async function downloadCheckpoint(options: DownloadOptions): Promise<DownloadResult> {
  const { dir, file, url } = options;
  if (path.basename(file) !== file || file === '' || file.startsWith('.')) {
    throw new GenrepError(`invalid checkpoint file name '${file}'`, 'UNSAFE', { field: 'file' });
  }
  await fsp.mkdir(dir, { recursive: true });
  const target = path.join(dir, file);
  const part = `${target}.part`;
  const records = await readChecksums(dir);

  if (await exists(target)) {
    const { sha256, size } = await hashFile(target);
    const recorded = await verifyOrRecord(dir, records, file, { sha256, size, url });
    return { path: target, size, sha256, status: 'present', recorded };
  }

  let offset = (await exists(part)) ? (await fsp.stat(part)).size : 0;
  const headers: Record<string, string> = offset > 0 ? { Range: `bytes=${offset}-` } : {};
  let response: Response;
  try {
    response = await fetch(url, { headers, redirect: 'follow', ...(options.signal ? { signal: options.signal } : {}) });
  } catch (err) {
    throw new GenrepError(`download of ${file} failed: ${describe(err)} (${redactUrl(url)})`, 'NOT_FOUND', { file: target });
  }
  let total: number | undefined;
  if (response.status === 206 && offset > 0) {
    const range = /bytes\s+(\d+)-(\d+)\/(\d+|\*)/.exec(response.headers.get('content-range') ?? '');
    if (!range || Number(range[1]) !== offset) {
      throw new GenrepError(`download of ${file}: the server answered an unexpected range (${response.headers.get('content-range')}); delete ${part} and retry`, 'CORRUPT', { file: part });
    }
    total = range[3] === '*' ? undefined : Number(range[3]);
  } else if (response.status === 200) {
    // The server ignored the Range header (or there was nothing to resume): start from zero.
    offset = 0;
    const length = response.headers.get('content-length');
    total = length === null ? undefined : Number(length);
  } else if (response.status === 416 && offset > 0) {
    throw new GenrepError(`download of ${file}: the partial file ${part} is larger than the server's file; delete it and retry`, 'CORRUPT', { file: part });
  } else {
    throw new GenrepError(`download of ${file} failed: HTTP ${response.status} ${response.statusText} (${redactUrl(url)})`, 'NOT_FOUND', { file: target });
  }
  const resumed = offset > 0;
  const handle = await fsp.open(part, offset > 0 ? 'a' : 'w');
  let received = offset;
  try {
    options.onProgress?.(received, total);
    if (!response.body) throw new Error('empty response body');
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      await handle.write(chunk);
      received += chunk.byteLength;
      options.onProgress?.(received, total);
    }
    await handle.sync();
  } catch (err) {
    await handle.close();
    if (options.signal?.aborted) {
      throw new GenrepError(`download of ${file} cancelled after ${received} bytes; run it again to resume`, 'CANCELLED', { file: part });
    }
    throw new GenrepError(
      `download of ${file} interrupted after ${received}${total ? ` of ${total}` : ''} bytes (${describe(err)}); run it again to resume from ${part}`,
      'NOT_FOUND',
      { file: part },
    );
  }
  await handle.close();
  if (total !== undefined && received !== total) {
    throw new GenrepError(
      `download of ${file} is incomplete: received ${received} of ${total} bytes; run it again to resume from ${part}`,
      'CORRUPT',
      { file: part },
    );
  }
  const { sha256, size } = await hashFile(part);
  const recorded = await verifyOrRecord(dir, records, file, { sha256, size, url }, part);
  await fsp.rename(part, target);
  return { path: target, size, sha256, status: resumed ? 'resumed' : 'downloaded', recorded };
}

async function verifyOrRecord(
  dir: string,
  records: Record<string, ChecksumRecord>,
  file: string,
  got: { sha256: string; size: number; url: string },
  partFile?: string,
): Promise<boolean> {
  const previous = records[file];
  if (previous) {
    if (previous.sha256 !== got.sha256 || previous.size !== got.size) {
      if (partFile) await fsp.rename(partFile, `${partFile}.mismatch`);
      throw new GenrepError(
        `${file}: sha256 ${got.sha256} (${got.size} bytes) differs from the one recorded at its first download, ` +
          `${previous.sha256} (${previous.size} bytes, ${previous.recordedAt}); ` +
          (partFile ? `the new bytes were kept as ${partFile}.mismatch. ` : '') +
          `If the publisher really changed the file, remove its entry from ${path.join(dir, CHECKSUMS)}.`,
        'CORRUPT',
        { file: path.join(dir, file) },
      );
    }
    return false;
  }
  records[file] = { sha256: got.sha256, size: got.size, url: redactUrl(got.url), recordedAt: new Date().toISOString() };
  await writeFileAtomic(path.join(dir, CHECKSUMS), `${JSON.stringify(records, null, 2)}\n`);
  return true;
}

async function readChecksums(dir: string): Promise<Record<string, ChecksumRecord>> {
  const file = path.join(dir, CHECKSUMS);
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch {
    return {};
  }
  try {
    return JSON.parse(text) as Record<string, ChecksumRecord>;
  } catch {
    throw new GenrepError(`${file}: not valid JSON; fix or delete it (it only records checksums of past downloads)`, 'CORRUPT', { file });
  }
}

export async function hashFile(file: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
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
function redactUrl(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : `${url.slice(0, q)}?…`;
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as Error & { cause?: unknown }).cause;
    return cause instanceof Error ? `${err.message}: ${cause.message}` : err.message;
  }
  return String(err);
}

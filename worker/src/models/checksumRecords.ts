import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { fileError, GenrepError } from '../errors';
import { writeFileAtomic } from '../io/atomicWrite';
import { errnoCode, fsError } from '../io/fsErrors';

/**
 * `<modelDir>/checksums.json`: the sha256 of each checkpoint as first downloaded, so a later download (from a mirror,
 * or after the file was deleted) must bring the same bytes. A checksum published in models/manifest.json wins over
 * a record. Records are written only for files that passed the checkpoint check; ones written before that check
 * existed (no `checked`) may pin a bad download, and their mismatch message says so.
 */
export interface ChecksumRecord {
  sha256: string;
  size: number;
  url: string;
  recordedAt: string;
  /** True when the recorded file was checked to be a torch.save checkpoint before it was recorded. */
  checked?: boolean;
}

export type ChecksumRecords = Record<string, ChecksumRecord>;

export const CHECKSUMS = 'checksums.json';

const SHA256 = /^[0-9a-f]{64}$/;

/** Not a type guard: a string that fails the test is still a string (one to quote in the error). */
export function isSha256(value: unknown): boolean {
  return typeof value === 'string' && SHA256.test(value);
}

export async function readChecksums(dir: string): Promise<ChecksumRecords> {
  const file = path.join(dir, CHECKSUMS);
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return {};
    throw fsError(err, file, { action: 'read' });
  }
  const fix = 'fix or delete it (it only records checksums of past downloads)';
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new GenrepError(`${file}: not valid JSON; ${fix}`, 'CORRUPT', { file });
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw fileError(file, `expected a JSON object of checkpoint names; ${fix}`, 'CORRUPT');
  }
  const records: ChecksumRecords = {};
  for (const [name, entry] of Object.entries(raw as Record<string, unknown>)) {
    const e = entry as Partial<ChecksumRecord> | null;
    const valid =
      e !== null &&
      typeof e === 'object' &&
      isSha256(e.sha256) &&
      typeof e.size === 'number' &&
      Number.isSafeInteger(e.size) &&
      e.size >= 0;
    if (!valid) {
      throw fileError(file, `entry ${JSON.stringify(name)} needs a hex sha256 and a byte size; ${fix}`, 'CORRUPT', {
        field: name,
      });
    }
    setOwn(records, name, e as ChecksumRecord);
  }
  return records;
}

export function recordFor(records: ChecksumRecords, file: string): ChecksumRecord | undefined {
  return Object.hasOwn(records, file) ? records[file] : undefined;
}

export async function writeRecord(
  dir: string,
  records: ChecksumRecords,
  file: string,
  record: ChecksumRecord,
): Promise<void> {
  setOwn(records, file, record);
  const target = path.join(dir, CHECKSUMS);
  try {
    await writeFileAtomic(target, `${JSON.stringify(records, null, 2)}\n`);
  } catch (err) {
    throw fsError(err, target, { action: 'write' });
  }
}

/** defineProperty: a name such as '__proto__' becomes an ordinary own property. */
function setOwn(records: ChecksumRecords, name: string, record: ChecksumRecord): void {
  Object.defineProperty(records, name, { value: record, enumerable: true, writable: true, configurable: true });
}

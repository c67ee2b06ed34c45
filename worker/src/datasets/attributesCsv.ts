import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { fileError } from '../errors';
import { readCsvRows } from './csvRows';

/**
 * attributes_XX.csv of a DCASE machine-type folder: header `file_name,d1p,d1v[,d2p,d2v,…]`, one row per clip, the
 * file name possibly prefixed with `<type>/<split>/`. Returns file name → attributes for every such CSV in `typeDir`.
 * The CSV wins over the name where both give a key, because a CSV value may hold an underscore a name cannot.
 */
export async function readAttributeCsvs(typeDir: string): Promise<Map<string, Record<string, string>>> {
  const byName = new Map<string, Record<string, string>>();
  let entries: string[];
  try {
    entries = (await fsp.readdir(typeDir)).filter((e) => /^attributes_\w*\.csv$/i.test(e)).sort();
  } catch {
    return byName;
  }
  for (const entry of entries) {
    const file = path.join(typeDir, entry);
    const [headerRow, ...rows] = await readCsvRows(file);
    if (!headerRow) continue;
    const header = headerRow.fields;
    if (header[0] !== 'file_name') {
      throw fileError(
        file,
        `line ${headerRow.line}: header must start with file_name, got "${header.join(',')}"`,
        'BAD_INPUT',
        {
          expected: 'file_name,d1p,d1v[,d2p,d2v,…]',
        },
      );
    }
    for (const row of rows) {
      const [fileName, ...pairs] = row.fields;
      if (!fileName) continue;
      const attributes: Record<string, string> = {};
      for (let i = 0; i < pairs.length; i += 2) {
        const key = pairs[i];
        if (!key || key === 'noAttribute') continue;
        attributes[key] = pairs[i + 1] ?? '';
      }
      byName.set(path.posix.basename(fileName.replace(/\\/g, '/')), attributes);
    }
  }
  return byName;
}

import { promises as fsp } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { GenrepError, fileError } from '../errors';
import { fsError } from '../io/fsErrors';

export interface CsvRow {
  fields: string[];
  /** 1-based line number, for error messages. */
  line: number;
}

/** Reads a small CSV (evaluator ground truth, attributes_XX.csv): BOM, CRLF and blank lines tolerated, cells trimmed. */
export async function readCsvRows(file: string): Promise<CsvRow[]> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    throw fsError(err, file, { action: 'read', expected: 'a CSV file' });
  }
  return parseCsvRows(file, text);
}

export function parseCsvRows(file: string, text: string): CsvRow[] {
  try {
    const records = parse(text, {
      bom: true,
      trim: true,
      skip_empty_lines: true,
      relax_column_count: true,
      record_delimiter: ['\r\n', '\n', '\r'],
      info: true,
    }) as unknown as { record: string[]; info: { lines: number } }[];
    return records.map((r) => ({ fields: r.record, line: r.info.lines }));
  } catch (err) {
    if (err instanceof GenrepError) throw err;
    throw fileError(file, `not a valid CSV file: ${(err as Error).message}`);
  }
}

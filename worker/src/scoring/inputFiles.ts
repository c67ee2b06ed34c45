import * as path from 'node:path';
import { fileError } from '../errors';
import { fsError } from '../io/fsErrors';
import { readNpy } from '../io/npy';
import { openRegularFile } from '../io/regularFile';
import type { Domain } from '../protocol/vocabulary';

/**
 * Readers for the files people bring to `score-features` and `metrics`: features as .npy, and one value per line
 * for domains, labels and sections. Every error names the file and the line.
 */

export interface FeatureFile {
  data: Float32Array;
  rows: number;
  dim: number;
}

/**
 * A 2-D .npy matrix (rows × dim), as NumPy's np.save writes float32 / float64 features. `dim`, when the other side
 * (a bank, the training features) is known already, is checked against the header before the data is read, and
 * every value is checked to be finite as it is read — so a wrong or broken multi-gigabyte file fails at once.
 */
export async function readFeatureMatrix(file: string, expect?: { dim: number; of: string }): Promise<FeatureFile> {
  const { data, shape } = await readNpy(file, {
    finite: 'features',
    checkShape: (s) => {
      if (s.length !== 2) {
        const problem = `expected a 2-D array (clips × features), got shape [${s.join(', ')}]`;
        throw fileError(file, problem, 'BAD_INPUT', { field: 'shape', expected: '2-D' });
      }
      if (expect !== undefined && s[1] !== expect.dim) {
        const problem = `features have ${s[1]} dimensions but ${expect.of} has ${expect.dim}`;
        throw fileError(file, problem, 'BAD_INPUT', { field: 'dim', expected: `${expect.dim}` });
      }
    },
  });
  const [rows, dim] = shape;
  if (rows === undefined || dim === undefined) {
    throw fileError(file, `the shape checked as 2-D reads [${shape.join(', ')}]`, 'INTERNAL');
  }
  return { data, rows, dim };
}

/** A regular file's text (a FIFO would block, a device never end). */
async function readText(file: string): Promise<string> {
  const open = await openRegularFile(file, 'a text file');
  try {
    return await open.handle.readFile('utf8');
  } catch (err) {
    throw fsError(err, file, { expected: 'a text file' });
  } finally {
    await open.handle.close().catch(() => undefined);
  }
}

/** Non-empty lines, trimmed; a final newline is allowed, blank lines in between are an error (they would misalign rows). */
export async function readLineList(file: string): Promise<string[]> {
  const lines = (await readText(file)).split(/\r?\n/);
  while (lines.at(-1)?.trim() === '') lines.pop();
  return lines.map((line, i) => {
    const v = line.trim();
    if (v === '')
      throw fileError(file, `line ${i + 1} is empty; give one value per line`, 'BAD_INPUT', { field: `line ${i + 1}` });
    return v;
  });
}

/** `source` / `target` per line (also 0 / 1, as in the DCASE evaluator's ground_truth_domain files). */
export async function readDomainsFile(file: string): Promise<Domain[]> {
  return (await readLineList(file)).map((v, i) => {
    const s = v.toLowerCase();
    if (s === 'source' || s === '0') return 'source';
    if (s === 'target' || s === '1') return 'target';
    throw fileError(file, `line ${i + 1} is '${v}'; expected 'source' or 'target'`, 'BAD_INPUT', {
      field: `line ${i + 1}`,
      expected: 'source or target',
    });
  });
}

/** 0 (normal) / 1 (anomaly) per line. */
export async function readLabelsFile(file: string): Promise<number[]> {
  return (await readLineList(file)).map((v, i) => {
    if (v === '0' || v === '1') return Number(v);
    throw fileError(file, `line ${i + 1} is '${v}'; expected 0 (normal) or 1 (anomaly)`, 'BAD_INPUT', {
      field: `line ${i + 1}`,
      expected: '0 or 1',
    });
  });
}

/** Section / machine ID per line (any token, e.g. `id_00` or `00`). */
export async function readSectionsFile(file: string): Promise<string[]> {
  return readLineList(file);
}

/** Scores from score-features' JSON (`score` field, or a plain array) or a 1-D (or N × 1) .npy. */
export async function readScoresFile(
  file: string,
  expect: { count?: (n: number) => void } = {},
): Promise<Float64Array> {
  if (path.extname(file).toLowerCase() === '.npy') {
    const { data } = await readNpy(file, {
      finite: 'scores',
      checkShape: (shape) => {
        const [count, columns] = shape;
        if (count === undefined || shape.length > 2 || (columns !== undefined && columns !== 1)) {
          const problem = `expected a 1-D array of scores, got shape [${shape.join(', ')}]`;
          throw fileError(file, problem, 'BAD_INPUT', { field: 'shape' });
        }
        expect.count?.(count);
      },
    });
    return Float64Array.from(data);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readText(file));
  } catch (err) {
    if (err instanceof SyntaxError) throw fileError(file, `not valid JSON (${err.message})`, 'BAD_INPUT');
    throw err;
  }
  const list = Array.isArray(parsed) ? parsed : (parsed as { score?: unknown } | null)?.score;
  if (!Array.isArray(list))
    throw fileError(file, "expected a JSON array of scores or an object with a 'score' array", 'BAD_INPUT', {
      field: 'score',
    });
  return Float64Array.from(list, (v, i) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw fileError(file, `score ${i} is ${JSON.stringify(v)}; scores must be finite numbers`, 'BAD_INPUT', {
        field: `score[${i}]`,
      });
    }
    return v;
  });
}

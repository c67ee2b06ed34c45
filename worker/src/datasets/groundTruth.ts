import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { GenrepError, fileError } from '../errors';
import { fsError } from '../io/fsErrors';
import { readCsvRows } from './csvRows';
import { parseDcase2020Name, parseDcase2023Name } from './fileNames';
import type { GroundTruth, GroundTruthEntry } from './types';

/**
 * The labels of eval test clips, which their names hide (`section_00_0000.wav`). Two sources are understood:
 * - the DCASE evaluator's folders (nttcslab/dcase202X_task2_evaluator): ground_truth_data/ (`<file>,<0|1 anomaly>`),
 *   optional ground_truth_domain/ (`<file>,<0 source|1 target>`) and ground_truth_attributes/ (`<file>,<renamed>`),
 *   each holding ground_truth_<type>_section_<XX>_test.csv without a header;
 * - an eval_data_list_<year>.csv of the DCASE baseline: a line holding only a machine type, then
 *   `<eval file>,<renamed file>[,<label>]` lines for that type.
 * `dir` is such a folder, or the eval_data_list file itself.
 */
export async function readGroundTruth(dir: string): Promise<GroundTruth> {
  let stat;
  try {
    stat = await fsp.stat(dir);
  } catch (err) {
    throw fsError(err, dir, { action: 'read', expected: 'a ground-truth folder or an eval_data_list CSV' });
  }
  if (stat.isFile()) return readEvalDataList(dir);
  const entries = await fsp.readdir(dir);
  if (entries.includes('ground_truth_data')) return readEvaluatorFolders(dir);
  const lists = entries.filter((e) => /^eval_data_list.*\.csv$/i.test(e)).sort();
  const [onlyList] = lists;
  if (lists.length === 1 && onlyList !== undefined) return readEvalDataList(path.join(dir, onlyList));
  if (lists.length > 1) {
    throw fileError(
      dir,
      `holds several ground-truth lists (${lists.join(', ')}); give the one for this dataset`,
      'BAD_INPUT',
      {
        expected: 'one eval_data_list CSV',
      },
    );
  }
  throw fileError(dir, 'holds no ground truth', 'BAD_INPUT', {
    expected:
      'ground_truth_data/ground_truth_<type>_section_<XX>_test.csv (the DCASE evaluator folders) or an eval_data_list_<year>.csv',
  });
}

const EVALUATOR_CSV = /^ground_truth_(.+)_section_(\d+)_test\.csv$/;

/** An evaluator CSV's machine type and section, from its name. */
function evaluatorCsvOf(name: string): { machineType: string; section: string } | undefined {
  const [, machineType, section] = EVALUATOR_CSV.exec(name) ?? [];
  return machineType !== undefined && section !== undefined ? { machineType, section } : undefined;
}

/** Where the evaluator keeps the label CSV of one machine type and section (for error messages). */
export function evaluatorCsvPath(dir: string, machineType: string, section: string): string {
  return path.join(dir, 'ground_truth_data', `ground_truth_${machineType}_section_${section}_test.csv`);
}

async function readEvaluatorFolders(dir: string): Promise<GroundTruth> {
  const truth: GroundTruth = new Map();
  const dataDir = path.join(dir, 'ground_truth_data');
  for (const name of (await fsp.readdir(dataDir)).sort()) {
    const m = evaluatorCsvOf(name);
    if (!m) continue;
    const file = path.join(dataDir, name);
    const entries = new Map<string, GroundTruthEntry>();
    for (const row of await readCsvRows(file)) {
      const [clip, value] = checkRow(file, row.fields, row.line);
      if (entries.has(clip)) throw fileError(file, `line ${row.line}: ${clip} is listed twice`);
      entries.set(clip, { label: binary(file, row.line, value, 'label (0 normal, 1 anomaly)') });
    }
    let sections = truth.get(m.machineType);
    if (!sections) truth.set(m.machineType, (sections = new Map<string, Map<string, GroundTruthEntry>>()));
    sections.set(m.section, entries);
  }
  if (truth.size === 0) {
    throw fileError(dataDir, 'holds no ground-truth CSV', 'BAD_INPUT', {
      expected: 'ground_truth_<type>_section_<XX>_test.csv',
    });
  }
  await mergeColumn(dir, 'ground_truth_domain', truth, (entry, value, file, line) => {
    entry.domain = binary(file, line, value, 'domain (0 source, 1 target)');
  });
  await mergeColumn(dir, 'ground_truth_attributes', truth, (entry, value) => {
    entry.renamed = stripWav(value);
  });
  for (const sections of truth.values()) {
    for (const entries of sections.values()) for (const entry of entries.values()) fillDomainFromName(entry);
  }
  return truth;
}

/** Adds one optional column (domain, renamed name) from a sibling folder laid out like ground_truth_data. */
async function mergeColumn(
  dir: string,
  folder: string,
  truth: GroundTruth,
  apply: (entry: GroundTruthEntry, value: string, file: string, line: number) => void,
): Promise<void> {
  const columnDir = path.join(dir, folder);
  let names: string[];
  try {
    names = (await fsp.readdir(columnDir)).sort();
  } catch {
    return; // optional: older evaluators ship labels only
  }
  for (const name of names) {
    const m = evaluatorCsvOf(name);
    if (!m) continue;
    const file = path.join(columnDir, name);
    const entries = truth.get(m.machineType)?.get(m.section);
    if (!entries) {
      throw fileError(file, `has no matching labels file ${path.join('ground_truth_data', name)}`, 'BAD_INPUT');
    }
    for (const row of await readCsvRows(file)) {
      const [clip, value] = checkRow(file, row.fields, row.line);
      const entry = entries.get(clip);
      if (!entry) throw fileError(file, `line ${row.line}: ${clip} is not in ${path.join('ground_truth_data', name)}`);
      apply(entry, value, file, row.line);
    }
  }
}

async function readEvalDataList(file: string): Promise<GroundTruth> {
  const truth: GroundTruth = new Map();
  let machineType: string | undefined;
  for (const row of await readCsvRows(file)) {
    const fields = row.fields.filter((f, i) => i < 2 || f !== '');
    const [clip, renamedFile, labelText] = fields;
    if (fields.length === 1 && clip !== undefined) {
      machineType = clip;
      continue;
    }
    if (machineType === undefined) {
      throw fileError(file, `line ${row.line}: a clip before any machine-type line`, 'BAD_INPUT', {
        expected: 'a line holding only the machine type first',
      });
    }
    // csv-parse gives every row at least one field, and fields 0 and 1 survive the filter: two or more here.
    if (clip === undefined || renamedFile === undefined) {
      throw fileError(file, `line ${row.line}: expected <file>,<renamed>[,<label>]`);
    }
    const renamed = stripWav(renamedFile);
    const section = sectionOf(clip) ?? sectionOf(renamed);
    if (section === undefined) throw fileError(file, `line ${row.line}: cannot tell the section of ${clip}`);
    let label: 0 | 1;
    if (labelText !== undefined) {
      label = binary(file, row.line, labelText, 'label (0 normal, 1 anomaly)');
    } else {
      const named = labelOf(renamed);
      if (named === undefined)
        throw fileError(file, `line ${row.line}: no label column and ${renamedFile} names no label`);
      label = named;
    }
    let sections = truth.get(machineType);
    if (!sections) truth.set(machineType, (sections = new Map<string, Map<string, GroundTruthEntry>>()));
    let entries = sections.get(section);
    if (!entries) sections.set(section, (entries = new Map<string, GroundTruthEntry>()));
    if (entries.has(clip)) throw fileError(file, `line ${row.line}: ${clip} is listed twice for ${machineType}`);
    const entry: GroundTruthEntry = { label, renamed };
    fillDomainFromName(entry);
    entries.set(clip, entry);
  }
  if (truth.size === 0)
    throw fileError(file, 'holds no ground truth', 'BAD_INPUT', {
      expected: 'machine-type lines followed by <file>,<renamed>[,<label>]',
    });
  return truth;
}

function checkRow(file: string, fields: string[], line: number): [string, string] {
  const [clip, value] = fields;
  if (clip === undefined || clip === '' || value === undefined) {
    throw fileError(file, `line ${line}: expected <file>,<value>, got "${fields.join(',')}"`);
  }
  return [clip, value];
}

function binary(file: string, line: number, value: string, what: string): 0 | 1 {
  if (value === '0') return 0;
  if (value === '1') return 1;
  throw new GenrepError(`${file}: line ${line}: ${what} must be 0 or 1, got "${value}"`, 'BAD_INPUT', {
    file,
    field: `line ${line}`,
    expected: '0 or 1',
  });
}

function stripWav(name: string): string {
  return name.replace(/\.wav$/i, '');
}

function sectionOf(name: string): string | undefined {
  return parseDcase2023Name(name)?.section ?? parseDcase2020Name(name)?.section;
}

function labelOf(name: string): 0 | 1 | undefined {
  const named = parseDcase2023Name(name) ?? parseDcase2020Name(name);
  if (named?.kind !== 'labelled') return undefined;
  return named.label === 'anomaly' ? 1 : 0;
}

/** Evaluators without a domain folder still name the domain in the renamed file. */
function fillDomainFromName(entry: GroundTruthEntry): void {
  if (entry.domain !== undefined || entry.renamed === undefined) return;
  const named = parseDcase2023Name(entry.renamed);
  if (named?.kind === 'labelled') entry.domain = named.domain === 'target' ? 1 : 0;
}

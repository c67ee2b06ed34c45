import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { GenrepError, fileError } from '../errors';
import { readAttributeCsvs } from './attributesCsv';
import { compareNames, parseDcase2020Name, parseDcase2023Name } from './fileNames';
import { evaluatorCsvPath, readGroundTruth } from './groundTruth';
import { LAYOUT_RULES, type WalkedLayout } from './layoutRules';
import type {
  Clip,
  Dataset,
  DatasetLayout,
  DiscoverOptions,
  GroundTruth,
  ListedFile,
  MachineSet,
  SkippedFile,
  Split,
} from './types';
import { type FoundFile, isDirectory, isInside, listWavFiles } from './walk';

const SPLITS: readonly Split[] = ['train', 'test'];
/** How many offending files an error message names before it just counts the rest. */
const NAMED_IN_ERRORS = 3;

/**
 * Finds the clips of a dataset and labels each one from its folder, its name or the evaluator's ground truth.
 * The root holds one folder per machine type (or is itself one, holding train/ and test/). Deterministic: machine
 * types in name order, training clips source before target and by name within each, test clips by name.
 */
export async function discoverDataset(options: DiscoverOptions): Promise<Dataset> {
  const root = await resolveRoot(options.root);
  const requestedLayout = options.layout ?? 'auto';
  let layout: DatasetLayout;
  let clips: Clip[];
  const skipped: SkippedFile[] = [];
  if (options.files !== undefined) {
    if (requestedLayout !== 'auto' && requestedLayout !== 'files') {
      throw new GenrepError(
        `an explicit file list cannot use layout "${requestedLayout}"; leave layout out or set it to "files"`,
        'BAD_INPUT',
        { field: 'layout' },
      );
    }
    layout = 'files';
    clips = await clipsFromList(root, options.files, options.scoringOnly === true);
  } else {
    if (requestedLayout === 'files') {
      throw new GenrepError('layout "files" needs an explicit file list (files)', 'BAD_INPUT', { field: 'files' });
    }
    const walked = await walkRoot(root, options, requestedLayout, skipped);
    layout = walked.layout;
    clips = walked.clips;
  }
  const machines = groupMachines(root, clips, options);
  return { root, layout, machines, skipped };
}

async function resolveRoot(root: string): Promise<string> {
  let real: string;
  try {
    real = await fsp.realpath(root);
  } catch {
    throw fileError(root, 'dataset root not found', 'NOT_FOUND');
  }
  if (!(await isDirectory(real))) throw fileError(root, 'dataset root is not a folder', 'BAD_INPUT');
  return real;
}

interface TypeFolder {
  machineType: string;
  dir: string;
}

/** Machine-type folders: subfolders holding train/ or test/, or the root itself when it holds them. */
async function findTypeFolders(root: string): Promise<TypeFolder[]> {
  if ((await isDirectory(path.join(root, 'train'))) || (await isDirectory(path.join(root, 'test')))) {
    return [{ machineType: path.basename(root), dir: root }];
  }
  const folders: TypeFolder[] = [];
  const entries = (await fsp.readdir(root, { withFileTypes: true })).sort((a, b) => compareNames(a.name, b.name));
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const dir = path.join(root, entry.name);
    if (!entry.isDirectory() && !entry.isSymbolicLink()) continue;
    if (entry.isSymbolicLink()) {
      const target = await fsp.realpath(dir).catch(() => undefined);
      if (target === undefined || !isInside(root, target)) continue;
    }
    if ((await isDirectory(path.join(dir, 'train'))) || (await isDirectory(path.join(dir, 'test')))) {
      folders.push({ machineType: entry.name, dir });
    }
  }
  return folders;
}

interface Unrecognised extends SkippedFile {
  unsafe: boolean;
}

async function walkRoot(
  root: string,
  options: DiscoverOptions,
  requestedLayout: Exclude<DiscoverOptions['layout'], 'files' | undefined>,
  skipped: SkippedFile[],
): Promise<{ layout: WalkedLayout; clips: Clip[] }> {
  let folders = await findTypeFolders(root);
  if (folders.length === 0) {
    throw fileError(options.root, 'holds no machine type', 'BAD_INPUT', {
      expected: '<root>/<machine type>/train/*.wav (and test/)',
    });
  }
  folders = selectTypes(options.root, folders, options.machineTypes);
  const scoringOnly = options.scoringOnly === true;

  const filesByType = new Map<string, Record<Split, FoundFile[]>>();
  for (const folder of folders) {
    const bySplit = { train: [] as FoundFile[], test: [] as FoundFile[] };
    for (const split of SPLITS) {
      const dir = path.join(folder.dir, split);
      if (await isDirectory(dir)) bySplit[split] = await listWavFiles(dir, root);
    }
    filesByType.set(folder.machineType, bySplit);
  }

  const layout =
    requestedLayout === 'auto' ? detectLayout(options.root, folders, filesByType, scoringOnly) : requestedLayout;
  const rule = LAYOUT_RULES[layout];
  const clips: Clip[] = [];
  const unrecognised: Unrecognised[] = [];
  const pendingEval: PendingEval[] = [];
  for (const folder of folders) {
    const attributeCsv = await readAttributeCsvs(folder.dir);
    const bySplit = filesByType.get(folder.machineType) ?? { train: [], test: [] };
    for (const split of SPLITS) {
      for (const file of bySplit[split]) {
        if (file.outside !== undefined) {
          unrecognised.push({ path: file.path, reason: `refused: ${file.outside}`, unsafe: true });
          continue;
        }
        const name = path.basename(file.path);
        const classified = rule(split, file.parts, scoringOnly);
        if (classified.kind === 'unrecognised') {
          unrecognised.push({ path: file.path, reason: classified.reason, unsafe: false });
        } else if (classified.kind === 'eval') {
          pendingEval.push({ folder, file, section: classified.section, csv: attributeCsv.get(name) });
        } else {
          const fromCsv = attributeCsv.get(name);
          clips.push({
            path: file.path,
            machineType: folder.machineType,
            section: classified.section,
            split,
            domain: classified.domain,
            label: classified.label,
            attributes: fromCsv ? { ...classified.attributes, ...fromCsv } : classified.attributes,
            name,
          });
        }
      }
    }
  }

  if (isNonEmpty(unrecognised)) {
    if (options.skipUnrecognised !== true) throw unrecognisedError(unrecognised, layout);
    for (const u of unrecognised) skipped.push({ path: u.path, reason: u.reason });
  }
  if (pendingEval.length > 0) clips.push(...(await labelEvalClips(pendingEval, options, scoringOnly)));
  return { layout, clips };
}

function selectTypes(root: string, folders: TypeFolder[], wanted: string[] | undefined): TypeFolder[] {
  if (wanted === undefined) return folders;
  const byName = new Map(folders.map((f) => [f.machineType, f]));
  const missing = wanted.filter((w) => !byName.has(w));
  if (missing.length > 0) {
    throw fileError(
      root,
      `no machine type ${missing.map((m) => `"${m}"`).join(', ')}; found ${folders.map((f) => f.machineType).join(', ')}`,
      'NOT_FOUND',
      {
        field: 'machineTypes',
      },
    );
  }
  return folders
    .filter((f) => wanted.includes(f.machineType))
    .sort((a, b) => compareNames(a.machineType, b.machineType));
}

/**
 * The layout most files fit, checked in the order dcase2023, dcase2020, generic (a DCASE train folder also fits the
 * generic rule, so the specific layouts go first and need a majority). All machine types must agree.
 */
function detectLayout(
  root: string,
  folders: TypeFolder[],
  filesByType: Map<string, Record<Split, FoundFile[]>>,
  scoringOnly: boolean,
): WalkedLayout {
  const perType: { machineType: string; layout: WalkedLayout }[] = [];
  for (const folder of folders) {
    const bySplit = filesByType.get(folder.machineType);
    if (!bySplit) continue;
    const total = bySplit.train.length + bySplit.test.length;
    if (total === 0) continue;
    const fits = (layout: WalkedLayout): number => {
      let n = 0;
      for (const split of SPLITS) {
        for (const f of bySplit[split])
          if (LAYOUT_RULES[layout](split, f.parts, scoringOnly).kind !== 'unrecognised') n++;
      }
      return n;
    };
    const layout = (['dcase2023', 'dcase2020'] as const).find((l) => fits(l) * 2 > total) ?? 'generic';
    perType.push({ machineType: folder.machineType, layout });
  }
  if (perType.length === 0) {
    throw fileError(root, 'holds no .wav files under any <machine type>/train or /test folder', 'BAD_INPUT', {
      expected: '<root>/<machine type>/train/*.wav',
    });
  }
  const layouts = [...new Set(perType.map((p) => p.layout))];
  if (layouts.length > 1) {
    const described = layouts.map(
      (l) =>
        `${l} (${perType
          .filter((p) => p.layout === l)
          .map((p) => p.machineType)
          .join(', ')})`,
    );
    throw fileError(
      root,
      `machine types use different layouts: ${described.join('; ')}; set the layout explicitly`,
      'BAD_INPUT',
      { field: 'layout' },
    );
  }
  const [layout] = layouts;
  if (layout === undefined) throw new GenrepError('layout detection: no layout for a non-empty dataset', 'INTERNAL');
  return layout;
}

function unrecognisedError(unrecognised: [Unrecognised, ...Unrecognised[]], layout: WalkedLayout): GenrepError {
  const [first] = unrecognised;
  const others = unrecognised.slice(1, NAMED_IN_ERRORS).map((u) => `${u.path} (${u.reason})`);
  const more = unrecognised.length - 1 - others.length;
  const tail = [others.length > 0 ? `; also ${others.join('; ')}` : '', more > 0 ? ` and ${more} more` : ''].join('');
  const unsafe = unrecognised.some((u) => u.unsafe);
  return new GenrepError(
    `${first.path}: ${first.reason}${tail}. ${unrecognised.length} file(s) fit no rule of the ${layout} layout; set skipUnrecognised to skip them`,
    unsafe ? 'UNSAFE' : 'BAD_INPUT',
    { file: first.path, field: 'skipUnrecognised' },
  );
}

/** An eval test file waiting for its label; its attributes come from the ground truth's renamed name and the CSV. */
interface PendingEval {
  folder: TypeFolder;
  file: FoundFile;
  section: string;
  csv: Record<string, string> | undefined;
}

async function labelEvalClips(pending: PendingEval[], options: DiscoverOptions, scoringOnly: boolean): Promise<Clip[]> {
  let truth: GroundTruth | undefined;
  if (options.groundTruthDir !== undefined) truth = await readGroundTruth(options.groundTruthDir);
  const clips: Clip[] = [];
  const unlabelled = new Map<
    string,
    { first: string; count: number; machineType: string; section: string; problem: 'no-dir' | 'no-csv' | 'not-listed' }
  >();
  for (const { folder, file, section, csv } of pending) {
    const name = path.basename(file.path);
    const entries = truth?.get(folder.machineType)?.get(section);
    const entry = entries?.get(name);
    const base = { path: file.path, machineType: folder.machineType, section, split: 'test' as const, name };
    if (entry === undefined) {
      if (scoringOnly) {
        clips.push({ ...base, domain: undefined, label: undefined, attributes: { ...csv } });
        continue;
      }
      const problem = truth === undefined ? 'no-dir' : entries === undefined ? 'no-csv' : 'not-listed';
      const key = `${folder.machineType}\u0000${section}`;
      const seen = unlabelled.get(key);
      if (seen) seen.count++;
      else unlabelled.set(key, { first: file.path, count: 1, machineType: folder.machineType, section, problem });
      continue;
    }
    const renamed = entry.renamed !== undefined ? parseDcase2023Name(entry.renamed) : undefined;
    const attributes = renamed?.kind === 'labelled' ? renamed.attributes : {};
    clips.push({
      ...base,
      domain: entry.domain === undefined ? undefined : entry.domain === 1 ? 'target' : 'source',
      label: entry.label === 1 ? 'anomaly' : 'normal',
      attributes: { ...attributes, ...csv },
      ...(entry.renamed !== undefined ? { originalName: entry.renamed } : {}),
    });
  }
  const [firstUnlabelled] = unlabelled.values();
  if (firstUnlabelled) {
    const u = firstUnlabelled;
    const { machineType } = u;
    const more = u.count > 1 ? ` (and ${u.count - 1} more of ${machineType})` : '';
    const otherTypes = unlabelled.size > 1 ? `; ${unlabelled.size - 1} other machine type/section(s) likewise` : '';
    const dir = options.groundTruthDir;
    const where =
      u.problem === 'no-dir'
        ? `give groundTruthDir: the DCASE evaluator's folder with ground_truth_data/ground_truth_${machineType}_section_${u.section}_test.csv`
        : u.problem === 'no-csv'
          ? `no ground truth for ${machineType} section ${u.section} in ${dir} (looked for ${evaluatorCsvPath(dir ?? '', machineType, u.section)})`
          : `not listed in the ground truth for ${machineType} section ${u.section} in ${dir}`;
    throw new GenrepError(
      `${u.first}: eval test file without a label${more}: ${where}${otherTypes}`,
      u.problem === 'no-csv' ? 'NOT_FOUND' : 'BAD_INPUT',
      {
        file: u.first,
        field: 'groundTruthDir',
      },
    );
  }
  return clips;
}

async function clipsFromList(root: string, files: ListedFile[], scoringOnly: boolean): Promise<Clip[]> {
  if (files.length === 0) throw new GenrepError('the explicit file list is empty', 'BAD_INPUT', { field: 'files' });
  const clips: Clip[] = [];
  for (const [i, entry] of files.entries()) {
    const field = `files[${i}]`;
    if (typeof entry.machineType !== 'string' || entry.machineType === '') {
      throw new GenrepError(`${field}: machineType is missing`, 'BAD_INPUT', { field: `${field}.machineType` });
    }
    if (entry.split !== 'train' && entry.split !== 'test') {
      throw new GenrepError(`${field}: split must be "train" or "test"`, 'BAD_INPUT', {
        field: `${field}.split`,
        expected: 'train | test',
      });
    }
    const resolved = path.resolve(root, entry.path);
    if (!isInside(root, resolved)) {
      throw new GenrepError(`${entry.path}: ${field} points outside the dataset root ${root}`, 'UNSAFE', {
        file: entry.path,
        field: `${field}.path`,
      });
    }
    let real: string;
    try {
      real = await fsp.realpath(resolved);
    } catch {
      throw new GenrepError(`${resolved}: ${field} not found`, 'NOT_FOUND', {
        file: entry.path,
        field: `${field}.path`,
      });
    }
    if (!isInside(root, real)) {
      throw new GenrepError(
        `${entry.path}: ${field} is a symbolic link to ${real}, outside the dataset root`,
        'UNSAFE',
        { file: entry.path, field: `${field}.path` },
      );
    }
    if (!(await fsp.stat(real)).isFile())
      throw new GenrepError(`${resolved}: ${field} is not a file`, 'BAD_INPUT', {
        file: entry.path,
        field: `${field}.path`,
      });
    const name = path.basename(resolved);
    const named2023 = parseDcase2023Name(name);
    const named2020 = parseDcase2020Name(name);
    const fromName = named2023?.kind === 'labelled' ? named2023 : undefined;
    const label =
      entry.label ??
      (entry.split === 'train'
        ? 'normal'
        : (fromName?.label ?? (named2020?.kind === 'labelled' ? named2020.label : undefined)));
    if (entry.split === 'train' && label !== 'normal') {
      throw new GenrepError(
        `${resolved}: ${field} is a training clip labelled ${label}; training clips must be normal`,
        'BAD_INPUT',
        { file: entry.path, field: `${field}.label` },
      );
    }
    if (label === undefined && !scoringOnly) {
      throw new GenrepError(
        `${resolved}: ${field} is a test clip without a label (give label, or make the run scoring-only)`,
        'BAD_INPUT',
        {
          file: entry.path,
          field: `${field}.label`,
        },
      );
    }
    clips.push({
      path: resolved,
      machineType: entry.machineType,
      section: entry.section ?? named2023?.section ?? named2020?.section ?? '00',
      split: entry.split,
      domain: entry.domain ?? fromName?.domain,
      label,
      attributes: entry.attributes ?? fromName?.attributes ?? {},
      name,
    });
  }
  return clips;
}

function groupMachines(root: string, clips: Clip[], options: DiscoverOptions): MachineSet[] {
  let kept = clips;
  if (options.machineTypes !== undefined && options.files !== undefined) {
    const present = new Set(clips.map((c) => c.machineType));
    const missing = options.machineTypes.filter((m) => !present.has(m));
    if (missing.length > 0)
      throw new GenrepError(`the file list has no machine type ${missing.join(', ')}`, 'NOT_FOUND', {
        field: 'machineTypes',
      });
    const wanted = new Set(options.machineTypes);
    kept = kept.filter((c) => wanted.has(c.machineType));
  }
  if (options.sections !== undefined) {
    const present = new Set(kept.map((c) => c.section));
    const missing = options.sections.filter((s) => !present.has(s));
    if (missing.length > 0) {
      throw fileError(root, `no section ${missing.join(', ')}; found ${[...present].sort().join(', ')}`, 'NOT_FOUND', {
        field: 'sections',
      });
    }
    const wanted = new Set(options.sections);
    kept = kept.filter((c) => wanted.has(c.section));
  }
  const byType = new Map<string, Clip[]>();
  for (const clip of kept) {
    let list = byType.get(clip.machineType);
    if (!list) byType.set(clip.machineType, (list = []));
    list.push(clip);
  }
  const machines: MachineSet[] = [];
  for (const [machineType, all] of [...byType.entries()].sort(([a], [b]) => compareNames(a, b))) {
    const train = all.filter((c) => c.split === 'train').sort(trainOrder(root));
    const test = all.filter((c) => c.split === 'test').sort(byRelativePath(root));
    checkMachine(root, machineType, train, test, options.scoringOnly === true);
    const sections = [...new Set(all.map((c) => c.section))].sort(compareNames);
    machines.push({ machineType, train, test, sections });
  }
  if (machines.length === 0) throw fileError(options.root, 'holds no machine type with clips', 'BAD_INPUT');
  return machines;
}

function byRelativePath(root: string): (a: Clip, b: Clip) => number {
  return (a, b) => compareNames(path.relative(root, a.path), path.relative(root, b.path));
}

/** Source (or domain-less) rows first, then target, by path within each: the reference's row order for its banks. */
function trainOrder(root: string): (a: Clip, b: Clip) => number {
  const rank = (c: Clip): number => (c.domain === 'target' ? 1 : 0);
  const byPath = byRelativePath(root);
  return (a, b) => rank(a) - rank(b) || byPath(a, b);
}

function checkMachine(root: string, machineType: string, train: Clip[], test: Clip[], scoringOnly: boolean): void {
  const where = path.join(root, machineType);
  if (train.length === 0) {
    throw fileError(where, `machine type ${machineType} has no training clips`, 'BAD_INPUT', {
      expected: 'normal clips in train/',
    });
  }
  if (scoringOnly) return;
  if (test.length === 0) {
    throw fileError(
      where,
      `machine type ${machineType} has no test clips (a run that only builds banks must be scoring-only)`,
      'BAD_INPUT',
      {
        expected: 'clips in test/',
      },
    );
  }
  const normals = test.filter((c) => c.label === 'normal').length;
  const anomalies = test.length - normals;
  if (normals === 0 || anomalies === 0) {
    throw fileError(
      where,
      `the test set of ${machineType} holds only ${normals === 0 ? 'anomalous' : 'normal'} clips (${test.length}); AUC needs both classes (make the run scoring-only to score without metrics)`,
      'BAD_INPUT',
      { expected: 'normal and anomalous test clips' },
    );
  }
}

function isNonEmpty<T>(list: T[]): list is [T, ...T[]] {
  return list.length > 0;
}

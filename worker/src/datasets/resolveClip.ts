import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { ResolvedClip } from '../protocol/workerProtocol';
import { parseDcase2020Name, parseDcase2023Name } from './fileNames';
import type { Domain, Split } from './types';
import { isInside } from './walk';

/**
 * Which machine type an arbitrary WAV file belongs to, so that scoring picks the bank of its own type. Inside a
 * dataset root the answer is the one discovery gives (discover.ts): `<root>/<type>/{train,test}/…`, or
 * `<root>/{train,test}/…` when the root is one machine type's folder. Outside every root the same folder shape is
 * read from the file's own path (the folder above train/ or test/). Section, domain and split come from the DCASE
 * 2023 or 2020 name where it has them, else from the folders (the generic layout: source/, target/, section "00").
 *
 * The path is read both as given and with symbolic links resolved (as are the roots): a linked machine-type folder
 * makes one file two clips of two types, and then the answer is 'ambiguous' rather than a guess.
 */

const SPLITS: readonly string[] = ['train', 'test'];
const DOMAIN_FOLDERS: readonly string[] = ['source', 'target'];
/** Folders the generic layout allows between the split folder and the file. */
const GENERIC_FOLDERS: readonly string[] = ['source', 'target', 'normal', 'anomaly'];

interface Reading {
  root: string;
  machineType: string;
  section: string | null;
  domain: Domain | null;
  split: Split;
  /** Which rule named the section and domain. */
  names: string;
}

/** What the name (and the folders below the split folder) say; `split` is the folder's. */
function readName(name: string, below: string[], split: Split): Omit<Reading, 'root' | 'machineType'> {
  const d2023 = parseDcase2023Name(name);
  if (d2023?.kind === 'labelled') {
    return { section: d2023.section, domain: d2023.domain, split, names: 'DCASE 2023 file name' };
  }
  if (d2023?.kind === 'eval')
    return { section: d2023.section, domain: null, split, names: 'DCASE 2023 eval file name' };
  const d2020 = parseDcase2020Name(name);
  if (d2020) return { section: d2020.section, domain: null, split, names: 'DCASE 2020 file name' };
  const domain = below.map((f) => f.toLowerCase()).find((f) => DOMAIN_FOLDERS.includes(f)) as Domain | undefined;
  return { section: '00', domain: domain ?? null, split, names: 'generic layout (one section, "00")' };
}

/**
 * The reading of `file` under `root` (both absolute, in the same form), or undefined when the file is not where
 * discovery would find a clip: the split folder must be the first or second folder below the root.
 */
function readUnderRoot(root: string, file: string): Reading | undefined {
  if (!isInside(root, file) || root === file) return undefined;
  const parts = path.relative(root, file).split(path.sep);
  const name = parts.at(-1) ?? '';
  const folders = parts.slice(0, -1);
  const at = folders.findIndex((f) => SPLITS.includes(f));
  if (at < 0 || at > 1) return undefined;
  const below = folders.slice(at + 1);
  if (below.some((f) => !GENERIC_FOLDERS.includes(f.toLowerCase()))) return undefined;
  // at is 0 or 1, so folders[at] is the split folder and folders[0] the type folder when at is 1.
  const machineType = at === 0 ? path.basename(root) : folders[0]!;
  return { root, machineType, ...readName(name, below, folders[at]! as Split) };
}

/** Outside every root: the nearest train/ or test/ above the file (with at most the generic folders between). */
function readFromPath(file: string): Reading | undefined {
  const folders = path.dirname(file).split(path.sep);
  for (let i = folders.length - 1, below = 0; i >= 1 && below <= 2; i--, below++) {
    const folder = folders[i]!; // i ≥ 1 indexes folders
    if (SPLITS.includes(folder)) {
      const machineType = folders[i - 1] ?? '';
      if (machineType === '') return undefined;
      return {
        root: folders.slice(0, i - 1).join(path.sep) || path.sep,
        machineType,
        ...readName(path.basename(file), folders.slice(i + 1), folder as Split),
      };
    }
    if (!GENERIC_FOLDERS.includes(folder.toLowerCase())) return undefined;
  }
  return undefined;
}

/** What the name alone says, for a file whose machine type nothing gives. */
function nameOnly(file: string): Pick<ResolvedClip, 'section' | 'domain' | 'split'> & { names?: string } {
  const name = path.basename(file);
  const d2023 = parseDcase2023Name(name);
  if (d2023?.kind === 'labelled') {
    return { section: d2023.section, domain: d2023.domain, split: d2023.split, names: 'the DCASE 2023 file name' };
  }
  const section = d2023?.section ?? parseDcase2020Name(name)?.section;
  return section !== undefined
    ? { section, domain: null, split: null, names: 'the DCASE file name' }
    : { section: null, domain: null, split: null };
}

async function realOrSelf(p: string): Promise<string> {
  return fsp.realpath(p).catch(() => p);
}

/** The root forms and file forms to compare: as given and with links resolved, without repeats. */
function forms(given: string, real: string): string[] {
  return given === real ? [given] : [given, real];
}

export interface ResolveOptions {
  /** Relative files and roots resolve against it (default: the process's working folder). */
  cwd?: string;
}

/** Resolves one file against the dataset roots; never throws (a missing file is resolved from its path). */
export async function resolveClip(
  file: string,
  roots: readonly string[],
  o: ResolveOptions = {},
): Promise<ResolvedClip> {
  const cwd = o.cwd ?? process.cwd();
  const given = path.resolve(cwd, file);
  const files = forms(given, await realOrSelf(given));
  const readings: Reading[] = [];
  for (const root of roots) {
    const rootGiven = path.resolve(cwd, root);
    for (const r of forms(rootGiven, await realOrSelf(rootGiven))) {
      for (const f of files) {
        const reading = readUnderRoot(r, f);
        if (reading) readings.push({ ...reading, root: rootGiven });
      }
    }
  }
  const types = [...new Set(readings.map((r) => r.machineType))];
  const { names, ...fromName } = nameOnly(given);
  if (types.length > 1) {
    const candidates = [...new Map(readings.map((r) => [`${r.root}\n${r.machineType}`, r])).values()].map((r) => ({
      root: r.root,
      machineType: r.machineType,
    }));
    const list = candidates.map((c) => `${c.machineType} (under ${c.root})`).join(', ');
    return {
      path: given,
      how: 'ambiguous',
      root: null,
      machineType: null,
      ...fromName,
      reason: `ambiguous: the dataset roots give ${list}, through symbolic links or nested roots`,
      candidates,
    };
  }
  // One machine type: the deepest root that reads it (a root inside another names the file most precisely).
  const best = readings.sort((a, b) => b.root.length - a.root.length)[0];
  if (best) {
    return {
      path: given,
      how: 'dataset',
      root: best.root,
      machineType: best.machineType,
      section: best.section,
      domain: best.domain,
      split: best.split,
      reason: `in dataset root ${best.root}: machine type ${best.machineType} from its folder, the rest from the ${best.names}`,
    };
  }
  const fromPath = files.map(readFromPath).find((r) => r !== undefined);
  if (fromPath) {
    return {
      path: given,
      how: 'file-name',
      root: null,
      machineType: fromPath.machineType,
      section: fromPath.section,
      domain: fromPath.domain,
      split: fromPath.split,
      reason:
        `outside every dataset root: machine type ${fromPath.machineType} from the folder above ` +
        `${fromPath.split}/, the rest from the ${fromPath.names}`,
    };
  }
  const inside = roots.map((r) => path.resolve(cwd, r)).find((r) => files.some((f) => isInside(r, f)));
  const where = inside !== undefined ? `in dataset root ${inside} but` : 'outside every dataset root and';
  return {
    path: given,
    how: 'unknown',
    root: null,
    machineType: null,
    ...fromName,
    reason:
      `machine type unknown: ${where} not in a <machine type>/train/ or /test/ folder` +
      (names !== undefined ? ` (section ${fromName.section} from ${names})` : ''),
  };
}

/** resolveClip for each file, in order. */
export async function resolveClips(
  files: readonly string[],
  roots: readonly string[],
  o: ResolveOptions = {},
): Promise<ResolvedClip[]> {
  const out: ResolvedClip[] = [];
  for (const f of files) out.push(await resolveClip(f, roots, o));
  return out;
}

import * as path from 'node:path';
import type { BankListing, ResolvedClip } from '../../worker/src/protocol/workerProtocol';

/**
 * Which bank scores which selected files, without `vscode`: the files are grouped by the machine type the worker
 * resolved (genrep/resolveClips), each group is matched to the banks of its own type and embedder, and a group
 * with no such bank gets a choice (build it now, use another bank explicitly, skip). scoreCommands.ts shows the
 * choices and runs the jobs.
 */

export interface FileGroup {
  /** null: nothing says which machine type (resolution 'unknown' or 'ambiguous'). */
  machineType: string | null;
  /** The files' common section, or null. */
  section: string | null;
  /** The dataset root the files lie in, when they share one. */
  root: string | null;
  files: ResolvedClip[];
}

/** Files by machine type and section, in the order first selected; every file of unknown type in one group. */
export function groupFiles(clips: readonly ResolvedClip[]): FileGroup[] {
  const groups = new Map<string, FileGroup>();
  for (const clip of clips) {
    const key = clip.machineType === null ? '' : `${clip.machineType}\n${clip.section ?? ''}`;
    const group = groups.get(key);
    if (!group) {
      groups.set(key, { machineType: clip.machineType, section: clip.section, root: clip.root, files: [clip] });
      continue;
    }
    group.files.push(clip);
    if (group.section !== clip.section) group.section = null;
    if (group.root !== clip.root) group.root = null;
  }
  return [...groups.values()];
}

/**
 * The kind of features an embedder setting gives, as the worker's embedder ids start (`fbank-stats:v1`,
 * `beats:<sha256>`, `onnx:<hash>`). Two BEATs checkpoints share a kind; the worker still refuses the wrong one.
 */
export function embedderKind(setting: string): 'fbank-stats' | 'onnx' | 'beats' {
  const s = setting.trim();
  if (s === 'fbank-stats' || s.startsWith('fbank-stats:')) return 'fbank-stats';
  return /\.onnx$/i.test(s) || s.startsWith('onnx:') ? 'onnx' : 'beats';
}

/** A bank's embedder fits the setting (a bank that does not record one fits any). */
export function sameEmbedder(bank: BankListing, setting: string): boolean {
  const id = bank.header.embedder;
  return id === null || id.split(':')[0] === embedderKind(setting);
}

/** By file name in code-unit order (the same on every machine, unlike localeCompare). */
function byName(a: BankListing, b: BankListing): number {
  const x = path.basename(a.file);
  const y = path.basename(b.file);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** 0 = same section, 1 = a bank of every section, 2 = another section. */
function sectionRank(bank: BankListing, section: string | null): number {
  if (bank.header.section === undefined) return 1;
  return section !== null && bank.header.section === section ? 0 : 2;
}

/** The banks of the group's machine type and embedder, the best first: same section, all sections, another. */
export function matchingBanks(group: FileGroup, banks: readonly BankListing[], embedder: string): BankListing[] {
  if (group.machineType === null) return [];
  return banks
    .filter((b) => b.header.machineType === group.machineType && sameEmbedder(b, embedder))
    .sort((a, b) => sectionRank(a, group.section) - sectionRank(b, group.section) || byName(a, b));
}

export type NoBankChoice = 'build' | 'other' | 'skip';

export type GroupPlan =
  /** One bank fits best: score with it. */
  | { kind: 'score'; group: FileGroup; bank: BankListing }
  /** Several fit equally (two checkpoints, two layers): the user picks among them, the best first. */
  | { kind: 'pick'; group: FileGroup; banks: BankListing[] }
  /** No bank of this type: offer these choices. `buildRoot` is set when 'build' is offered. */
  | { kind: 'choose'; group: FileGroup; choices: NoBankChoice[]; buildRoot?: string; otherBanks: BankListing[] }
  /** Machine type unknown: the user picks any bank explicitly (or skips). */
  | { kind: 'pickAny'; group: FileGroup; banks: BankListing[] };

/**
 * What to do with one group. `datasetRoots` maps each machine type the Dataset Explorer lists (with training clips)
 * to its roots, so a file resolved from its path alone can still have its bank built (from the files' own root
 * when it is one of them).
 */
export function planGroup(
  group: FileGroup,
  banks: readonly BankListing[],
  o: { embedder: string; datasetRoots: ReadonlyMap<string, readonly string[]> },
): GroupPlan {
  const others = [...banks].sort(
    (a, b) => Number(!sameEmbedder(a, o.embedder)) - Number(!sameEmbedder(b, o.embedder)) || byName(a, b),
  );
  if (group.machineType === null) return { kind: 'pickAny', group, banks: others };
  const matches = matchingBanks(group, banks, o.embedder);
  const [best, second] = matches;
  if (best) {
    const tie = second !== undefined && sectionRank(second, group.section) === sectionRank(best, group.section);
    return tie ? { kind: 'pick', group, banks: matches } : { kind: 'score', group, bank: best };
  }
  const roots = o.datasetRoots.get(group.machineType) ?? [];
  const buildRoot = group.root !== null && roots.includes(group.root) ? group.root : roots[0];
  const choices: NoBankChoice[] = [
    ...(buildRoot !== undefined ? (['build'] as const) : []),
    ...(others.length > 0 ? (['other'] as const) : []),
    'skip',
  ];
  return { kind: 'choose', group, choices, ...(buildRoot !== undefined ? { buildRoot } : {}), otherBanks: others };
}

/** The labels the choice shows (the e2e test clicks them by these texts). */
export const CHOICE_LABELS = {
  build: (machineType: string): string => `Build ${machineType} bank now`,
  other: 'Use another bank…',
  skip: 'Skip these files',
} as const;

export function choiceLabel(choice: NoBankChoice, machineType: string): string {
  return choice === 'build' ? CHOICE_LABELS.build(machineType) : CHOICE_LABELS[choice];
}

export const filesText = (n: number, machineType?: string | null): string =>
  `${n} ${machineType ? `${machineType} ` : ''}file${n === 1 ? '' : 's'}`;

/** The choice's title and placeholder. */
export function choosePrompt(group: FileGroup, embedder: string): { title: string; placeHolder: string } {
  const type = group.machineType ?? 'unknown';
  return {
    title: `No ${type} memory bank`,
    placeHolder: `No ${type} memory bank for ${embedder} in the bank folder: what should happen to the ${filesText(group.files.length, type)}?`,
  };
}

/** Why a bank is listed in "Use another bank…": its type, layer and embedder, and a warning when the type differs. */
export function otherBankDescription(bank: BankListing, machineType: string | null): string {
  const recorded = bank.header.machineType;
  const type =
    recorded === undefined
      ? 'machine type not recorded'
      : machineType !== null && recorded !== machineType
        ? `${recorded} — not ${machineType}`
        : recorded;
  return `${type} · layer ${bank.header.layer ?? '?'} · ${bank.header.embedder ?? 'unknown embedder'}`;
}

/** The worker must be told to accept a bank of another recorded type than the files' (ScoreFilesParams). */
export function needsOtherTypeConsent(group: FileGroup, bank: BankListing): boolean {
  const recorded = bank.header.machineType;
  return recorded !== undefined && group.files.some((f) => f.machineType !== null && f.machineType !== recorded);
}

export interface ScoringJob {
  bank: BankListing;
  files: string[];
  allowOtherMachineType: boolean;
}

/** Groups headed for the same bank (and the same consent) as one job, in the order first decided. */
export function mergeJobs(
  decided: readonly { group: FileGroup; bank: BankListing; allowOther: boolean }[],
): ScoringJob[] {
  const jobs = new Map<string, ScoringJob>();
  for (const d of decided) {
    const key = `${d.bank.file}\n${d.allowOther}`;
    const job = jobs.get(key);
    const files = d.group.files.map((f) => f.path);
    if (job) job.files.push(...files);
    else jobs.set(key, { bank: d.bank, files, allowOtherMachineType: d.allowOther });
  }
  return [...jobs.values()];
}

/** Machine type → the dataset roots whose listings hold training clips for it, in the explorer's order. */
export function rootsByMachineType(
  datasets: readonly { root: string; machines: readonly { machineType: string; trainClips: number }[] }[],
): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const d of datasets) {
    for (const m of d.machines) {
      if (m.trainClips > 0) out.set(m.machineType, [...(out.get(m.machineType) ?? []), d.root]);
    }
  }
  return out;
}

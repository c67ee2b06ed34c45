import * as path from 'node:path';
import * as vscode from 'vscode';
import type { PaperDefaults } from '../../worker/src/protocol/vocabulary';
import type { BankListing, BuildBankResult, ResolvedClip } from '../../worker/src/protocol/workerProtocol';
import {
  choiceLabel,
  choosePrompt,
  filesText,
  groupFiles,
  mergeJobs,
  needsOtherTypeConsent,
  otherBankDescription,
  planGroup,
  rootsByMachineType,
  type FileGroup,
  type NoBankChoice,
} from './bankMatching';
import { isNode, pathOf, relativeLabel } from './commandArgs';
import type { Services } from './commands';
import { config } from './config';
import { slug } from './configTemplate';
import { clipPathsOf } from './datasetTreeModel';
import { revealFile, ResultsPanel } from './resultsPanel';
import { listForMessage, partitionWavs } from './wavSelection';

/**
 * "Build Memory Bank" and "Score Selected WAV Files": each selected file is scored against the bank of its own
 * machine type (bankMatching.ts decides; this module asks and runs the jobs). Both run as worker jobs in a progress
 * notification with Cancel, and the worker writes their start, end or failure to the GenRep log.
 */

interface BuildTarget {
  root: string;
  machineType: string;
  sourceClips: number;
  trainClips: number;
}

const NO_BANK_FOLDER = 'Open a folder (or set genrep.bankDirectory to an absolute path) to keep memory banks.';

/** A machine type to build a bank for: the node's, or picked among the listed datasets. */
async function pickMachine(s: Services, node: unknown): Promise<BuildTarget | undefined> {
  if (isNode(node) && node.kind === 'machine') {
    return {
      root: node.root,
      machineType: node.machine.machineType,
      sourceClips: node.machine.train.filter((c) => c.domain !== 'target').length,
      trainClips: node.machine.train.length,
    };
  }
  const only = isNode(node) && node.kind === 'root' ? node.spec.path : undefined;
  const items = (await buildTargets(s))
    .filter((t) => only === undefined || t.root === only)
    .map((t) => ({
      label: t.machineType,
      description: path.basename(t.root),
      detail: `${t.trainClips} training clips`,
      value: t,
    }));
  if (items.length === 0) {
    const choice = await vscode.window.showWarningMessage(
      'No dataset with machine types is listed in the Dataset Explorer.',
      'Add Dataset Root',
    );
    if (choice) await vscode.commands.executeCommand('genrep.addDatasetRoot');
    return undefined;
  }
  if (items.length === 1) return items[0]!.value;
  return (
    await vscode.window.showQuickPick(items, { placeHolder: 'Machine type whose training clips form the memory bank' })
  )?.value;
}

/** Every machine type the Dataset Explorer lists, with its root and training clips. */
async function buildTargets(s: Services): Promise<BuildTarget[]> {
  return (await s.tree.currentDatasets()).flatMap((d) =>
    d.listing?.status === 'ok'
      ? d.listing.machines.map((m) => ({
          root: d.spec.path,
          machineType: m.machineType,
          sourceClips: m.train.filter((c) => c.domain !== 'target').length,
          trainClips: m.train.length,
        }))
      : [],
  );
}

async function bestLayer(s: Services, embedder: string, paper: PaperDefaults): Promise<number> {
  if (embedder === 'fbank-stats') return paper.fbankStatsLayer;
  try {
    const { models } = await s.ctx.request('genrep/listModels', {});
    return models.find((m) => m.name === embedder || embedder.endsWith(m.file))?.bestLayer ?? 1;
  } catch {
    return 1;
  }
}

/**
 * Builds one machine type's bank with the embedder setting (asking for the layer of a BEATs model) as a job with
 * progress and Cancel; the Dataset Explorer refreshes after it. Returns the bank, or undefined when the user
 * stopped or it failed (the failure already shown).
 */
async function buildBank(s: Services, target: BuildTarget): Promise<BankListing | undefined> {
  const { ctx } = s;
  const dir = config.bankDirectory();
  if (!dir) {
    void vscode.window.showErrorMessage(NO_BANK_FOLDER);
    return undefined;
  }
  const embedder = config.embedder();
  const what = `Building the ${target.machineType} memory bank`;
  let paper: PaperDefaults;
  try {
    paper = await ctx.paperDefaults();
  } catch (err) {
    ctx.reportFailure(what, err);
    return undefined;
  }
  let layer = await bestLayer(s, embedder, paper);
  if (embedder !== 'fbank-stats') {
    const answer = await vscode.window.showInputBox({
      prompt: `Layer of ${embedder} whose features form the bank`,
      value: String(layer),
      validateInput: (v) => (/^\d+$/.test(v.trim()) && Number(v) >= 1 ? undefined : 'a layer number, 1 or more'),
    });
    if (answer === undefined) return undefined;
    layer = Number(answer.trim());
  }
  const out = path.join(
    dir,
    `${target.machineType}-${slug(path.basename(embedder).replace(/\.(pt|onnx)$/i, ''))}-L${layer}.grbank`,
  );
  // MemMixup as the paper, with K_s capped at the source clips there are.
  const mixup = target.sourceClips > 0 ? { ...paper.mixup, K_s: Math.min(paper.mixup.K_s, target.sourceClips) } : null;
  let built: BuildBankResult;
  try {
    built = await ctx.job(
      'genrep/buildBank',
      {
        root: target.root,
        machineType: target.machineType,
        embedder,
        layer,
        pooling: paper.pooling,
        K_n: paper.K_n,
        mixup,
        out,
      },
      `GenRep: building the ${target.machineType} memory bank`,
    );
  } catch (err) {
    ctx.reportFailure(what, err, { retry: () => buildBank(s, target) });
    return undefined;
  } finally {
    s.tree.scheduleRefresh();
  }
  void vscode.window
    .showInformationMessage(
      `Memory bank saved: ${relativeLabel(built.file)} (${built.rows.source} source + ${built.rows.target} target clips, layer ${layer}).`,
      'Score WAV Files…',
      'Reveal Bank',
    )
    .then(async (choice) => {
      if (choice === 'Score WAV Files…') await vscode.commands.executeCommand('genrep.scoreSelectedFiles');
      if (choice === 'Reveal Bank') await revealFile(built.file);
    });
  return { file: built.file, header: built.header };
}

export async function buildBankCommand(s: Services, arg: unknown): Promise<void> {
  const target = await pickMachine(s, arg);
  if (target) await buildBank(s, target);
}

/** The files a Score command was invoked on: the explorer selection, a tree node, the active editor, or a dialog. */
async function selectedFiles(arg: unknown, multi: unknown): Promise<string[] | undefined> {
  if (Array.isArray(multi) && multi.length > 0) return multi.map(pathOf).filter((p): p is string => p !== undefined);
  if (isNode(arg)) return clipPathsOf(arg);
  const file = pathOf(arg);
  if (file !== undefined) return [file];
  const active = vscode.window.activeTextEditor?.document.fileName;
  if (active && /\.wav$/i.test(active)) return [active];
  const picked = await vscode.window.showOpenDialog({
    canSelectMany: true,
    filters: { 'WAV audio': ['wav', 'WAV'] },
    openLabel: 'Score',
  });
  return picked?.map((u) => u.fsPath);
}

type Decision = { bank: BankListing; allowOther: boolean } | 'skip';

interface BankItem extends vscode.QuickPickItem {
  bank?: BankListing;
}

const bankItem = (bank: BankListing, machineType: string | null): BankItem => ({
  label: path.basename(bank.file),
  description: otherBankDescription(bank, machineType),
  detail: Object.entries(bank.header.counts)
    .map(([k, v]) => `${k}: ${v}`)
    .join(', '),
  bank,
});

/** A QuickPick of banks with "Skip these files" last; undefined (dismissed) counts as skipping. */
async function pickBankFor(
  group: FileGroup,
  banks: readonly BankListing[],
  title: string,
  placeHolder: string,
): Promise<BankListing | undefined> {
  const items: BankItem[] = [
    ...banks.map((b) => bankItem(b, group.machineType)),
    { label: choiceLabel('skip', ''), description: filesText(group.files.length) },
  ];
  return (await vscode.window.showQuickPick(items, { title, placeHolder, ignoreFocusOut: true }))?.bank;
}

function warnOtherType(s: Services, group: FileGroup, bank: BankListing): void {
  const line =
    `Scoring ${filesText(group.files.length, group.machineType)} against ${path.basename(bank.file)}, a ` +
    `${bank.header.machineType ?? '?'} bank: the machine types differ, so the scores compare ` +
    `${group.machineType ?? 'these'} sounds with another machine's normal sounds.`;
  s.ctx.log.warn(line);
  void vscode.window.showWarningMessage(line);
}

/** What the user decides for one group: the bank to use (with consent to another type), or skip. */
async function decide(
  s: Services,
  group: FileGroup,
  banks: readonly BankListing[],
  datasetRoots: ReadonlyMap<string, readonly string[]>,
): Promise<Decision> {
  const embedder = config.embedder();
  const plan = planGroup(group, banks, { embedder, datasetRoots });
  const files = filesText(group.files.length, group.machineType);
  switch (plan.kind) {
    case 'score':
      return { bank: plan.bank, allowOther: false };
    case 'pick': {
      const bank = await pickBankFor(group, plan.banks, `Memory bank for ${files}`, 'Memory bank to score against');
      return bank ? { bank, allowOther: false } : 'skip';
    }
    case 'pickAny': {
      const why = group.files[0]?.reason ?? 'machine type unknown';
      if (plan.banks.length === 0) {
        s.ctx.log.warn(`score: no memory bank to score the ${files} of unknown machine type against (${why})`);
        return 'skip';
      }
      const bank = await pickBankFor(
        group,
        plan.banks,
        `Machine type unknown for ${files}`,
        `Memory bank to score them against (${why})`,
      );
      return bank ? { bank, allowOther: needsOtherTypeConsent(group, bank) } : 'skip';
    }
    case 'choose': {
      const type = group.machineType ?? '';
      const prompt = choosePrompt(group, embedder);
      const items = plan.choices.map((choice) => ({
        label: choiceLabel(choice, type),
        description: choiceDescription(choice, plan.buildRoot, group),
        choice,
      }));
      const picked = (await vscode.window.showQuickPick(items, { ...prompt, ignoreFocusOut: true }))?.choice;
      return afterChoice(s, group, picked, plan.buildRoot, plan.otherBanks);
    }
  }
}

function choiceDescription(choice: NoBankChoice, buildRoot: string | undefined, group: FileGroup): string {
  switch (choice) {
    case 'build':
      return `from the training clips under ${buildRoot !== undefined ? relativeLabel(buildRoot) : '?'}, then score`;
    case 'other':
      return 'pick a bank of another machine type (the scores will not mean much)';
    case 'skip':
      return `leave the ${filesText(group.files.length)} unscored`;
  }
}

async function afterChoice(
  s: Services,
  group: FileGroup,
  choice: NoBankChoice | undefined,
  buildRoot: string | undefined,
  otherBanks: readonly BankListing[],
): Promise<Decision> {
  const type = group.machineType ?? 'unknown';
  if (choice === 'build' && buildRoot !== undefined && group.machineType !== null) {
    const target = (await buildTargets(s)).find((t) => t.root === buildRoot && t.machineType === group.machineType);
    const bank = await buildBank(s, target ?? { root: buildRoot, machineType: type, sourceClips: 0, trainClips: 0 });
    return bank ? { bank, allowOther: false } : 'skip';
  }
  if (choice === 'other') {
    const bank = await pickBankFor(
      group,
      otherBanks,
      `Another bank for ${filesText(group.files.length, type)}`,
      `Bank to score the ${type} files against: its machine type differs from theirs`,
    );
    if (!bank) return 'skip';
    const allowOther = needsOtherTypeConsent(group, bank);
    if (allowOther) warnOtherType(s, group, bank);
    return { bank, allowOther };
  }
  return 'skip';
}

async function listBanks(s: Services, dir: string): Promise<BankListing[]> {
  const { banks, problems } = await s.ctx.request('genrep/listBanks', { dirs: [dir] });
  for (const p of problems) s.ctx.log.warn(`memory bank ${p.path}: ${p.message}`);
  return banks;
}

function describeResolution(clips: readonly ResolvedClip[]): string {
  return clips.map((c) => `${path.basename(c.path)} → ${c.machineType ?? c.how} (${c.reason})`).join('; ');
}

export async function scoreSelectedFiles(s: Services, arg: unknown, multi: unknown): Promise<void> {
  const { ctx } = s;
  const selected = await selectedFiles(arg, multi);
  if (!selected) return;
  const { wavs, others } = partitionWavs(selected);
  if (others.length > 0) {
    const message = `${others.length === 1 ? 'This is' : `These ${others.length} are`} not WAV files and ${others.length === 1 ? 'is' : 'are'} left out: ${listForMessage(others, (p) => path.basename(p))}`;
    if (wavs.length === 0) {
      void vscode.window.showErrorMessage(`Nothing to score. ${message}.`);
      return;
    }
    void vscode.window.showWarningMessage(`${message}.`);
  }
  if (wavs.length === 0) {
    void vscode.window.showErrorMessage('Nothing to score: select one or more .wav files.');
    return;
  }
  const dir = config.bankDirectory();
  if (!dir) {
    void vscode.window.showErrorMessage(NO_BANK_FOLDER);
    return;
  }
  const datasets = await s.tree.currentDatasets();
  const roots = datasets.map((d) => d.spec.path);
  let clips: ResolvedClip[];
  let banks: BankListing[];
  try {
    clips = (await ctx.request('genrep/resolveClips', { files: wavs, roots })).clips;
    banks = await listBanks(s, dir);
  } catch (err) {
    ctx.reportFailure('Finding the memory banks for the selected files', err);
    return;
  }
  ctx.log.info(`score: ${describeResolution(clips)}`);
  const groups = groupFiles(clips);
  if (banks.length === 0 && groups.every((g) => g.machineType === null)) {
    const choice = await vscode.window.showWarningMessage(
      `No memory bank in ${dir}. Build one from a machine type's training clips first.`,
      'Build Memory Bank',
    );
    if (choice) await vscode.commands.executeCommand('genrep.buildBank');
    return;
  }
  const datasetRoots = rootsByMachineType(
    datasets.flatMap((d) =>
      d.listing?.status === 'ok'
        ? [
            {
              root: d.spec.path,
              machines: d.listing.machines.map((m) => ({ machineType: m.machineType, trainClips: m.train.length })),
            },
          ]
        : [],
    ),
  );
  const decided: { group: FileGroup; bank: BankListing; allowOther: boolean }[] = [];
  const skipped: FileGroup[] = [];
  for (const group of groups) {
    const decision = await decide(s, group, banks, datasetRoots);
    if (decision === 'skip') skipped.push(group);
    else {
      decided.push({ group, ...decision });
      // A bank built for this group serves the next group of the same type too.
      if (!banks.some((b) => b.file === decision.bank.file)) banks = [...banks, decision.bank];
    }
  }
  if (skipped.length > 0) {
    const n = skipped.reduce((sum, g) => sum + g.files.length, 0);
    const names = skipped.flatMap((g) => g.files.map((f) => path.basename(f.path)));
    ctx.log.info(`score: skipped ${filesText(n)}: ${names.join(', ')}`);
    if (decided.length > 0)
      void vscode.window.showInformationMessage(`Skipped ${filesText(n)}: ${listForMessage(names, (x) => x)}.`);
  }
  for (const job of mergeJobs(decided)) {
    const what = `Scoring ${filesText(job.files.length)}`;
    try {
      const scored = await ctx.job(
        'genrep/scoreFiles',
        {
          bankFile: job.bank.file,
          files: job.files,
          dn: config.scoringDn(),
          embedder: config.embedder(),
          datasetRoots: roots,
          ...(job.allowOtherMachineType ? { allowOtherMachineType: true } : {}),
        },
        `GenRep: ${what.toLowerCase()} against ${path.basename(job.bank.file)}`,
      );
      ResultsPanel.show(ctx, {
        kind: 'scored',
        title: `${filesText(job.files.length)} scored against ${path.basename(job.bank.file)}`,
        scored,
      });
    } catch (err) {
      ctx.reportFailure(what, err);
    }
  }
}

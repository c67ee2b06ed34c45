import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type {
  BuildBankParams,
  BuildBankResult,
  ScoreFilesParams,
  ResolvedClip,
  ScoreFilesResult,
  WorkDoneProgressParams,
} from '../protocol/workerProtocol';
import { PAPER_DEFAULTS, type Pooling } from '../protocol/vocabulary';
import { discoverDataset, resolveClips, type Layout } from '../datasets';
import { POOLINGS, type Embedder } from '../embedders';
import { fileError, GenrepError } from '../errors';
import { errnoCode, fsError } from '../io/fsErrors';
import { decide } from '../metrics';
import {
  bankHeader,
  buildBanks,
  inductiveStats,
  loadBank,
  saveBank,
  scoreMachine,
  type BankFileHeader,
  type Domain,
} from '../scoring';
import type { Settings } from '../settings';
import { extractFeatures } from './extract';
import { FeatureCache } from './featureCache';
import { openEmbedder } from './embedderSpec';
import type { RunProgress } from './runContext';

/**
 * Memory banks as files for the editor's "Build Memory Bank" and "Score Selected WAV Files": a bank is built once
 * from a machine type's normal training clips and later scores any new recording without the training audio.
 * Scoring a handful of clips cannot use test-set statistics, so DN here is `inductive` (training leave-one-out
 * statistics, stored in the bank) or `none`.
 */
export const BANK_EXTENSION = '.grbank';

/** What a bank job takes besides its request: the audio channel, the folders and threads, cancellation, progress. */
export interface BankJobOptions {
  channel?: number | 'mean';
  /** The folders and threads (worker/src/settings.ts). */
  settings: Settings;
  signal?: AbortSignal;
  onProgress?: (p: RunProgress) => void;
}

/**
 * genrep/buildBank's fields (documented there) without the progress token; `layout` may also be any layout the
 * dataset reader knows, such as 'files'.
 */
export interface BuildBankOptions
  extends Omit<BuildBankParams, keyof WorkDoneProgressParams | 'layout'>, BankJobOptions {
  layout?: Layout;
  /** Lower a K_s above the source clips to their number instead of refusing it (the CLI's default K_s is 990). */
  capKs?: boolean;
}

export async function buildBankFromDataset(o: BuildBankOptions): Promise<BuildBankResult> {
  o.onProgress?.({ stage: 'discover', done: 0, total: 1, message: `finding the ${o.machineType} training clips` });
  const dataset = await discoverDataset({
    root: o.root,
    ...(o.layout ? { layout: o.layout } : {}),
    machineTypes: [o.machineType],
    ...(o.section !== undefined ? { sections: [o.section] } : {}),
    scoringOnly: true,
  });
  // discoverDataset keeps exactly the one machine type asked for, or says it is missing.
  const [machine] = dataset.machines;
  if (!machine) throw new GenrepError(`bank: no machine type ${o.machineType} in ${o.root}`, 'INTERNAL');
  if (machine.train.length === 0) {
    const which = o.section !== undefined ? ` of section ${o.section}` : '';
    throw fileError(o.root, `machine type ${o.machineType} has no training clips${which}`, 'BAD_INPUT', {
      field: 'machineType',
      expected: `${o.machineType}/train/*.wav`,
    });
  }
  const embedder = await openEmbedder(o.embedder, o.settings);
  try {
    checkLayer(embedder, o.layer);
    const extracted = await extractLayer(
      embedder,
      machine.train.map((c) => c.path),
      o.layer,
      o.pooling,
      o,
    );
    const domains = machine.train.map((c) => c.domain);
    const hasDomains = domains.every((d): d is Domain => d !== undefined);
    // The type and (when there is only one) the section, so that scoring can tell a clip of another type.
    const sections = [...new Set(machine.train.map((c) => c.section))];
    const meta = {
      embedder: embedder.id,
      layer: o.layer,
      pooling: o.pooling,
      machineType: o.machineType,
      section: sections.length === 1 ? sections[0]! : null,
      // Names the nearest normal clips when a score is explained (docs/explain.md); '/' on every platform.
      rowNames: machine.train.map((c) => path.relative(o.root, c.path).split(path.sep).join('/')),
    };
    const sources = domains.filter((d) => d === 'source').length;
    const ks = (K_s: number): number => (o.capKs === true ? Math.max(1, Math.min(K_s, sources)) : K_s);
    const banks = buildBanks({
      train: extracted.features,
      dim: extracted.dim,
      ...(hasDomains ? { trainDomains: domains } : {}),
      kn: o.K_n,
      mixup: hasDomains && o.mixup && o.mixup.K_s > 0 ? { K_s: ks(o.mixup.K_s), lambda: o.mixup.lambda } : null,
      meta,
      names: { train: `${o.machineType} training clips` },
    });
    o.onProgress?.({ stage: 'score', done: 0, total: 1, message: 'leave-one-out statistics for inductive DN' });
    // Computed now and stored in the header, so scoring a few clips later needs no pass over the training rows.
    if (hasDomains) await inductiveStats(banks);
    await saveBank(o.out, banks, meta);
    const header = bankHeader(banks, meta);
    const source = hasDomains ? domains.filter((d) => d === 'source').length : machine.train.length;
    return { file: o.out, rows: { source, target: machine.train.length - source }, header };
  } finally {
    await embedder.dispose();
  }
}

/** genrep/scoreFiles's fields (documented there; the embedder defaults to fbank-stats) without the progress token. */
export type ScoreFilesOptions = Omit<ScoreFilesParams, keyof WorkDoneProgressParams> & BankJobOptions;

export async function scoreFilesWithBank(o: ScoreFilesOptions): Promise<Omit<ScoreFilesResult, 'bankFile'>> {
  if (o.files.length === 0) throw new GenrepError('no files to score', 'BAD_INPUT', { field: 'files' });
  for (const f of o.files) {
    if (!/\.wav$/i.test(f))
      throw fileError(f, 'is not a .wav file; only WAV recordings can be scored', 'BAD_INPUT', { expected: '.wav' });
  }
  const banks = await loadBank(o.bankFile);
  const header = bankHeader(banks, banks.meta);
  if (header.machineType !== undefined && o.allowOtherMachineType !== true) {
    checkMachineType(o.bankFile, header.machineType, await resolveClips(o.files, o.datasetRoots ?? []));
  }
  const embedder = await openEmbedder(o.embedder ?? 'fbank-stats', o.settings);
  try {
    if (header.embedder !== null && header.embedder !== embedder.id) {
      throw fileError(
        o.bankFile,
        `was built with embedder '${header.embedder}', but the selected embedder is '${embedder.id}'; rebuild the bank or select the embedder it was built with`,
        'BAD_INPUT',
        { field: 'embedder', expected: header.embedder },
      );
    }
    const layer = header.layer ?? 1;
    const pooling = header.pooling ?? PAPER_DEFAULTS.pooling;
    // The header chose these; checked here so a bank saved by the CLI with any --layer / --pooling is named.
    if (!isPooling(pooling)) {
      const problem = `was built with pooling '${pooling}', which the embedder cannot produce`;
      throw fileError(o.bankFile, problem, 'BAD_INPUT', { field: 'pooling', expected: POOLINGS.join(', ') });
    }
    if (!(layer >= 1 && layer <= embedder.numLayers)) {
      const problem = `was built from layer ${layer}, but ${embedder.id} has layers 1..${embedder.numLayers}`;
      throw fileError(o.bankFile, problem, 'BAD_INPUT', { field: 'layer', expected: `1..${embedder.numLayers}` });
    }
    const extracted = await extractLayer(embedder, o.files, layer, pooling, o);
    const scored = await scoreMachine({
      banks,
      test: extracted.features,
      testDim: extracted.dim,
      dnMode: o.dn,
      threshold: true,
      names: { test: 'selected files', bank: o.bankFile },
    });
    const threshold = scored.threshold ?? Number.POSITIVE_INFINITY;
    const decisions = decide(scored.score, threshold);
    // score, d_source and d_target hold one value per scored file, so i < files.length indexes each of them.
    return {
      bank: header,
      threshold,
      files: o.files.map((p, i) => ({
        path: p,
        score: scored.score[i]!,
        d_source: scored.d_source ? scored.d_source[i]! : null,
        d_target: scored.d_target ? scored.d_target[i]! : null,
        decision: decisions[i] === 1 ? 1 : 0,
      })),
      // Computed anyway for the threshold; sent so the panel can show where the scored clips sit among them.
      ...(scored.trainScores ? { trainScores: Array.from(scored.trainScores).filter((x) => Number.isFinite(x)) } : {}),
    };
  } finally {
    await embedder.dispose();
  }
}

/**
 * Refuses clips whose machine type is known and differs from the bank's: their distances to another machine's
 * normal sounds say nothing about anomalies (issue: a pump clip scored against the fan bank without a question).
 * Files of unknown type pass, since nothing says they differ.
 */
export function checkMachineType(bankFile: string, bankType: string, clips: readonly ResolvedClip[]): void {
  const other = clips.filter((c) => c.machineType !== null && c.machineType !== bankType);
  const [first] = other;
  if (!first) return;
  const types = [...new Set(other.map((c) => c.machineType))].join("', '");
  const count = other.length === 1 ? '1 file is' : `${other.length} files are`;
  throw fileError(
    bankFile,
    `is a memory bank of machine type '${bankType}', but ${count} of machine type '${types}' ` +
      `(${path.basename(first.path)}: ${first.reason}); score ${other.length === 1 ? 'it' : 'them'} against a ` +
      `'${first.machineType}' bank, or allow another machine type explicitly (allowOtherMachineType, ` +
      '--allow-other-machine-type)',
    'BAD_INPUT',
    { field: 'allowOtherMachineType', expected: bankType },
  );
}

/** Every readable bank file in a folder (not recursive), with its header; unreadable ones are reported, not hidden. */
export async function listBanks(
  dir: string,
): Promise<Array<{ file: string; header: BankFileHeader | null; error?: string }>> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return []; // a folder not made yet holds no banks
    throw fsError(err, dir, { expected: 'a folder of bank files' });
  }
  const out: Array<{ file: string; header: BankFileHeader | null; error?: string }> = [];
  for (const name of names.filter((n) => n.endsWith(BANK_EXTENSION)).sort()) {
    const file = path.join(dir, name);
    try {
      const banks = await loadBank(file);
      out.push({ file, header: bankHeader(banks, banks.meta) });
    } catch (err) {
      out.push({ file, header: null, error: err instanceof Error ? err.message : String(err) });
    }
  }
  return out;
}

/** The features of the one layer a bank is built from or scored at, four clips a batch through the feature cache. */
async function extractLayer(
  embedder: Embedder,
  files: string[],
  layer: number,
  pooling: Pooling,
  o: BankJobOptions,
): Promise<{ features: Float32Array; dim: number }> {
  const channel = o.channel ?? 0;
  const cache = new FeatureCache(o.settings.cacheDir, {
    embedderId: embedder.id,
    pooling,
    channel,
    dim: embedder.dim(pooling),
  });
  const extracted = await extractFeatures(embedder, files, {
    layers: [layer],
    pooling,
    channel,
    cache,
    batchSize: 4,
    skipUnreadable: false,
    ...(o.signal ? { signal: o.signal } : {}),
    onProgress: (done, total) =>
      o.onProgress?.({ stage: 'extract', done, total, message: `features ${done}/${total} clips` }),
  });
  const [features] = extracted.features;
  if (!features) throw new GenrepError('bank: no features extracted for the layer', 'INTERNAL');
  return { features, dim: extracted.dim };
}

const isPooling = (p: string): p is Pooling => (POOLINGS as readonly string[]).includes(p);

function checkLayer(embedder: Embedder, layer: number): void {
  if (!Number.isInteger(layer) || layer < 1 || layer > embedder.numLayers) {
    throw new GenrepError(
      `layer ${layer} does not exist: ${embedder.id} has layers 1..${embedder.numLayers}`,
      'BAD_INPUT',
      {
        field: 'layer',
        expected: `1..${embedder.numLayers}`,
      },
    );
  }
}
